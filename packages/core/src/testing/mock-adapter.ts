import { promises as fs } from 'node:fs';
import {
  type BaseModelAdapter,
  type LoadedModel,
  ModelFileError,
  modelInfoSchema,
  SPECIFICATION_VERSION,
} from '../index.js';

/**
 * A tiny adapter for tests of code built on core (CLIs, pipelines, the kit itself): `<set>/<name>_<context>.mock` files holding JSON `{"context": N}`.
 * Its "model" scores a position by the share of A (acceptor) and G (donor) within context/2 of it,
 * so tiling mistakes change the numbers.
 */
export function createMockAdapter(overrides: Partial<BaseModelAdapter> = {}): BaseModelAdapter {
  async function readContext(file: string): Promise<number> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (cause) {
      throw new ModelFileError(file, 'cannot be read', { cause });
    }
    try {
      const { context } = JSON.parse(text) as { context: number };
      if (!Number.isInteger(context) || context < 2 || context % 2) throw new Error('bad context');
      return context;
    } catch (cause) {
      throw new ModelFileError(file, 'is not a mock model (expected JSON {"context": even integer})', { cause });
    }
  }
  return {
    specificationVersion: SPECIFICATION_VERSION,
    id: 'mock',
    displayName: 'Mock',
    capabilities: { devices: ['cpu'], backends: ['js'], contexts: [4, 8, 80], maxBatchSize: 64 },
    filePatterns: [/\.mock$/],
    outputClasses: ['neither', 'acceptor', 'donor'],
    metadataSchema: modelInfoSchema,
    defaultLicense: 'CC0-1.0',
    parsePath(relativePath) {
      const parts = relativePath.split('/');
      const base = parts[parts.length - 1].replace(/\.mock$/, '');
      const hint = /_(\d+)$/.exec(base);
      return { setName: parts.length > 1 ? parts[parts.length - 2] : 'mock', memberId: base, context: hint ? Number(hint[1]) : undefined };
    },
    async inspect(file) {
      const context = await readContext(file);
      return { context, architecture: `window counter (${context})`, parameterCount: 1, format: 'mock-json' };
    },
    async load({ file }) {
      const context = await readContext(file);
      return mockModel(context);
    },
    ...overrides,
  };
}

/** Reference scoring of one position, used both by the mock model and by tests. */
export function mockScore(codes: Uint8Array, i: number, context: number): [number, number, number] {
  const half = context / 2;
  let a = 0;
  let g = 0;
  for (let j = i - half; j <= i + half; j++) {
    const c = j >= 0 && j < codes.length ? codes[j] : 0;
    if (c === 1) a++;
    if (c === 3) g++;
  }
  const acc = (0.5 * a) / (context + 1);
  const don = (0.5 * g) / (context + 1);
  return [1 - acc - don, acc, don];
}

export function mockModel(context: number, bias = 0): LoadedModel {
  return {
    context,
    backend: 'js',
    device: 'cpu',
    async predict({ codes, batch, length }) {
      const outputs = length - context;
      const out = new Float32Array(batch * outputs * 3);
      for (let b = 0; b < batch; b++) {
        const row = codes.subarray(b * length, (b + 1) * length);
        for (let i = 0; i < outputs; i++) {
          const s = mockScore(row, i + context / 2, context);
          out.set([s[0] - bias, s[1] + bias, s[2]], (b * outputs + i) * 3);
        }
      }
      return out;
    },
    async dispose() {},
  };
}
