import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, test } from 'vitest';
import { runAdapterConformance } from '../src/testing/index.js';
import { createMockAdapter } from '../src/testing/mock-adapter.js';

const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-mock-'));
const modelFile = join(dir, 'm_80.mock');
await fs.writeFile(modelFile, JSON.stringify({ context: 80 }));

runAdapterConformance({
  describe,
  test,
  createAdapter: () => createMockAdapter(),
  fixtures: { modelFile, relativePath: 'alpha/m_80.mock', context: 80, setName: 'alpha' },
});

describe('the kit itself', () => {
  it('refuses a skip without a reason', () => {
    expect(() =>
      runAdapterConformance({ describe: () => {}, test: () => {}, createAdapter: createMockAdapter, fixtures: { modelFile, relativePath: 'a/m_80.mock', context: 80 }, skip: { load: '' } }),
    ).toThrow(/stated reason/);
  });
  it('fails an adapter that breaks the contract', async () => {
    // Run the suite with a collecting runner against an adapter whose predict is wrong.
    const tests: { name: string; fn: () => Promise<void> | void }[] = [];
    const broken = createMockAdapter({
      async load() {
        return { context: 80, backend: 'js', device: 'cpu', predict: async () => new Float32Array(3), dispose: async () => {} };
      },
    });
    runAdapterConformance({
      describe: (_n, fn) => fn(),
      test: (name, fn) => tests.push({ name, fn }),
      createAdapter: () => broken,
      fixtures: { modelFile, relativePath: 'alpha/m_80.mock', context: 80 },
    });
    const predict = tests.find((t) => t.name.startsWith('predicts'))!;
    await expect(predict.fn()).rejects.toThrow(/output has 3 values/);
  });
});
