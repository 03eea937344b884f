import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, test } from 'vitest';
import { runAdapterConformance } from '../src/testing/index.js';
import { SPLICE_CLASS_TRACKS } from '../src/adapter/contract.js';
import { createMockAdapter, mockModel } from '../src/testing/mock-adapter.js';

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
      runAdapterConformance({
        describe: () => {},
        test: () => {},
        createAdapter: createMockAdapter,
        fixtures: { modelFile, relativePath: 'a/m_80.mock', context: 80 },
        skip: { load: '' },
      }),
    ).toThrow(/stated reason/);
  });
  /** Runs the suite with a collecting runner and returns the named test. */
  function collected(adapter: ReturnType<typeof createMockAdapter>, prefix: string) {
    const tests: { name: string; fn: () => Promise<void> | void }[] = [];
    runAdapterConformance({
      describe: (_n, fn) => fn(),
      test: (name, fn) => tests.push({ name, fn }),
      createAdapter: () => adapter,
      fixtures: { modelFile, relativePath: 'alpha/m_80.mock', context: 80 },
    });
    return tests.find((t) => t.name.startsWith(prefix))!;
  }

  it('fails an adapter that breaks the contract', async () => {
    // An adapter whose predict returns fewer values than its tracks say.
    const broken = createMockAdapter({
      async load() {
        return { context: 80, tracks: SPLICE_CLASS_TRACKS, backend: 'js', device: 'cpu', predict: async () => new Float32Array(3), dispose: async () => {} };
      },
    });
    await expect(collected(broken, 'predicts').fn()).rejects.toThrow(
      /predict gave 3 values, expected 74 positions x 3 declared tracks \(neither, acceptor, donor\)/,
    );
  });

  it('checks the declared tracks against the output: more tracks than values, or none', async () => {
    const wide = createMockAdapter({
      async load() {
        const m = mockModel(80);
        return { ...m, tracks: [...SPLICE_CLASS_TRACKS, { name: 'usage', kind: 'usage' }] };
      },
    });
    await expect(collected(wide, 'predicts').fn()).rejects.toThrow(/expected 74 positions x 4 declared tracks/);
    const none = createMockAdapter({
      async load() {
        return { ...mockModel(80), tracks: [] };
      },
    });
    await expect(collected(none, 'predicts').fn()).rejects.toThrow(/declares no tracks/);
    const loose = createMockAdapter({ ensemble: undefined as never });
    await expect(collected(loose, 'declares how').fn()).rejects.toThrow(/ensemble is undefined/);
  });

  it('passes an adapter whose tracks are not the three classes (no sum-to-1 on usage or site tracks)', async () => {
    const tissue = createMockAdapter({
      async load() {
        const m = mockModel(80);
        return {
          ...m,
          tracks: [
            { name: 'p_site', kind: 'site-probability', site: 'any' },
            { name: 'usage', kind: 'usage' },
          ],
          async predict(batch) {
            const rows = await m.predict(batch);
            const out = new Float32Array((rows.length / 3) * 2);
            for (let p = 0; p < rows.length / 3; p++) out.set([rows[p * 3 + 1], rows[p * 3 + 2]], p * 2);
            return out;
          },
        };
      },
    });
    await collected(tissue, 'predicts').fn();
  });
});
