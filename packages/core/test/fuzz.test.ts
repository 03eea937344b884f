/**
 * Fuzzes the reader of untrusted text in core: `metadata/model_info.json` (byte and structural
 * mutations, read alone and through discovery, validation and the health check). Metadata must be
 * reported, never thrown past the manager, and never make it open a path outside the models folder.
 * Budget: METASPLICEAI_FUZZ_SECONDS per target (default 3). VCF input is fuzzed in genomics.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordFsAccess } from '../../../test-support/fs-spy.js';
import { createModelManager, loadModelInfo, MetadataError, readModelInfo } from '../src/index.js';
import { createMockAdapter } from '../src/testing/index.js';
import { fuzz, fuzzTimeout, mutate, mutateJson, type Random, typedOutcome } from '../../../test-support/fuzz.js';
import { makeTree, mock } from '../../../test-support/tree.js';

afterEach(() => vi.restoreAllMocks());

/** True when `path` is `root` or inside it. */
const inside = (root: string, path: string) => {
  const rel = relative(root, resolve(path));
  return rel === '' || (!rel.startsWith('..') && !rel.split(sep).includes('..') && resolve(rel) !== rel);
};

describe('fuzz: model_info.json', () => {
  let root: string;
  let models: string;
  let metadataPath: string;
  let original: string;
  const manager = () => createModelManager({ modelsDir: models }).register(createMockAdapter());

  beforeAll(async () => {
    // The models folder sits inside `root`, next to a file a hostile metadata file would point at.
    root = await makeTree({ 'models/alpha/a_8.mock': mock(8), 'models/alpha/b_8.mock': mock(8), 'outside_8.mock': mock(8) });
    models = join(root, 'models');
    await manager().index({ golden: true });
    metadataPath = join(models, 'alpha/metadata/model_info.json');
    original = readFileSync(metadataPath, 'latin1');
  });

  /** A byte mutation of the file, or a structural one (wrong types, `../` paths, missing keys). */
  function mutation(random: Random): { text: string; steps: string[] } {
    if (random() < 0.4) {
      const { bytes, steps } = mutate(Buffer.from(original, 'latin1'), random, { maxMutations: 4 });
      return { text: Buffer.from(bytes).toString('latin1'), steps };
    }
    const { value, steps } = mutateJson(JSON.parse(original), random);
    return { text: JSON.stringify(value, null, 2), steps };
  }

  it(
    'mutated metadata is reported (MetadataError naming the file, or a validation issue), never thrown, never followed outside the folder',
    async () => {
      // Every path the manager stats, reads or opens while the mutated file is in place.
      const touched = recordFsAccess();
      const stats = await fuzz({ name: 'model-info' }, async ({ random }, record) => {
        const { text, steps } = mutation(random);
        record(Buffer.from(text, 'latin1'), steps);
        writeFileSync(metadataPath, text, 'latin1');
        touched.length = 0;

        const read = await readModelInfo(metadataPath);
        if (read.status === 'invalid') expect(read.message.startsWith(`${metadataPath}: `), read.message).toBe(true);
        const outcome = await typedOutcome(() => loadModelInfo(metadataPath), metadataPath, [MetadataError.code]);
        expect(outcome === 'accepted').toBe(read.status === 'ok');

        const m = manager();
        const report = await m.validate();
        const set = report.sets.find((s) => s.setName === 'alpha');
        expect(set, JSON.stringify(report)).toBeDefined();
        if (read.status === 'invalid') expect(set!.issues.map((i) => i.code)).toContain('metadata-invalid');
        // The health check reads the golden outputs from the metadata: a report, never a throw.
        const health = await m.health({ adapter: 'mock' });
        expect(health.checks[0]).toMatchObject({ name: 'load', ok: true });

        const escaped = touched.filter((p) => !inside(models, p));
        expect(escaped, `opened outside the models folder: ${escaped.join(', ')}`).toEqual([]);
        return outcome;
      });
      writeFileSync(metadataPath, original, 'latin1');
      expect(stats.iterations).toBeGreaterThan(0);
      expect(Object.values(stats.refused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    },
    fuzzTimeout(),
  );
});
