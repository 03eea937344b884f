import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, so a change is tested without a rebuild.
    alias: [
      { find: /^@metaspliceai\/core\/testing$/, replacement: src('core/src/testing/index.ts') },
      { find: /^@metaspliceai\/core$/, replacement: src('core/src/index.ts') },
      { find: /^@metaspliceai\/genomics$/, replacement: src('genomics/src/index.ts') },
      { find: /^@metaspliceai\/onnx$/, replacement: src('onnx/src/index.ts') },
      { find: /^@metaspliceai\/torch$/, replacement: src('torch/src/index.ts') },
      { find: /^@metaspliceai\/adapter-spliceai$/, replacement: src('adapter-spliceai/src/index.ts') },
      { find: /^@metaspliceai\/server$/, replacement: src('server/src/index.ts') },
      { find: /^@metaspliceai\/adapter-openspliceai$/, replacement: src('adapter-openspliceai/src/index.ts') },
      { find: /^@metaspliceai\/adapter-pangolin$/, replacement: src('adapter-pangolin/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    env: { ORT_DISABLE_TELEMETRY: '1' },
  },
});
