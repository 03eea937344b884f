/**
 * Distances past SpliceAI's command-line limit of 4999, up to SpliceAI-lookup's 10000: the shared
 * reference and the recomputed cones must give what whole windows give, as at short distances.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createModelManager, type LoadedModelSet } from '@metaspliceai/core';
import { createOpenSpliceAIAdapter } from '@metaspliceai/adapter-openspliceai';
import { type FastaReader, loadAnnotation, MAX_SCORING_DISTANCE, openFasta, type VariantInput, VariantScorer } from '@metaspliceai/genomics';
import { MODELS_DIR, SHARED } from '../../../test-support/shared.js';

describe('VariantScorer beyond -D 4999', () => {
  let loaded: LoadedModelSet;
  let fasta: FastaReader;
  let annotation: Awaited<ReturnType<typeof loadAnnotation>>;

  beforeAll(async () => {
    const manager = createModelManager({ modelsDir: MODELS_DIR }).register(createOpenSpliceAIAdapter());
    loaded = await manager.load({ adapter: 'openspliceai', setName: 'openspliceai-mane', context: 400, threads: 2 });
    fasta = await openFasta(resolve(SHARED, 'data', 'chr10_hg19_test.fa'));
    annotation = await loadAnnotation(resolve(SHARED, 'fixtures', 'tubb8_grch37.tsv'));
  });
  afterAll(async () => loaded?.dispose());

  test('dist 6000: shared reference and cones equal whole windows, and scores reach 6000 nt out', async () => {
    const dist = 6000;
    const bases = await fasta.fetch('chr10', 93000, 95400);
    const variants: VariantInput[] = [];
    for (let pos = 93001; pos <= 95400; pos += 240) {
      const ref = bases[pos - 93001].toUpperCase();
      variants.push({ chrom: '10', pos, ref, alts: [ref === 'A' ? 'G' : 'A'] });
    }
    const options = { model: loaded.model, fasta, annotation: annotation.table, dist };
    const fast = await new VariantScorer(options).scoreMany(variants);
    const whole = await new VariantScorer({ ...options, shareReference: false, recomputeChangesOnly: false }).scoreMany(variants);
    expect(fast.map((r) => r.entries.map((e) => e.text))).toEqual(whole.map((r) => r.entries.map((e) => e.text)));
    fast.forEach((r, i) =>
      r.entries.forEach((e, j) => {
        const w = whole[i].entries[j].delta!;
        expect(e.delta!.positions).toEqual(w.positions);
        e.delta!.scores.forEach((s, k) => expect(Math.abs(s - w.scores[k])).toBeLessThan(1e-6));
      }),
    );
    expect(fast.filter((r) => r.entries.length > 0).length).toBe(variants.length);
    // The window reaches dist on each side: rows for all 2*dist+1 positions, maxima never below dist 50's.
    const rows = await new VariantScorer({ ...options, keepRows: true }).scoreMany(variants.slice(0, 1));
    expect(rows[0].entries[0].rows!.ref.length).toBe((2 * dist + 1) * loaded.model.tracks.length);
    const near = await new VariantScorer({ ...options, dist: 50 }).scoreMany(variants);
    fast.forEach((r, i) =>
      r.entries.forEach((e, j) => {
        expect(e.delta!.positions.every((p) => Math.abs(p) <= dist)).toBe(true);
        e.delta!.scores.forEach((s, k) => expect(s).toBeGreaterThanOrEqual(near[i].entries[j].delta!.scores[k] - 1e-6));
      }),
    );
  });

  test(`dist ${MAX_SCORING_DISTANCE} is the limit`, () => {
    const options = { model: loaded.model, fasta, annotation: annotation.table };
    expect(() => new VariantScorer({ ...options, dist: MAX_SCORING_DISTANCE })).not.toThrow();
    expect(() => new VariantScorer({ ...options, dist: MAX_SCORING_DISTANCE + 1 })).toThrow(/dist must be a whole number from 0 to 10000/);
  });
});
