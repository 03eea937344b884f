/**
 * Deletions and insertions recompute only what they change (`runCones` with `replaced`): the rows
 * left of the change keep the reference's states, those right of it the reference's shifted, and
 * every row must be what a whole alternate window gives.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConeJob, createModelManager, InvalidArgumentError, type LoadedModel, type LoadedModelSet, runCones } from '@metaspliceai/core';
import { mockStagedModel } from '@metaspliceai/core/testing';
import { createOpenSpliceAIAdapter } from '@metaspliceai/adapter-openspliceai';
import { type AnnotationRecord, type FastaReader, openFasta, readAnnotationTable, type VariantInput, VariantScorer } from '@metaspliceai/genomics';
import { MODELS_DIR, SHARED } from '../../../test-support/shared.js';

/** The largest absolute difference between two arrays of one length. */
function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('runCones with deletions and insertions', () => {
  let seed = 29;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const codes = (n: number) => Uint8Array.from({ length: n }, () => 1 + Math.floor(next() * 4));
  // [replaced, alt length]: 1-nt and 5-nt deletions, 1-nt and 4-nt insertions, AC>TGA, pure ones, a substitution.
  const changes: [number, number][] = [
    [2, 1],
    [6, 1],
    [1, 2],
    [1, 5],
    [2, 3],
    [3, 0],
    [0, 2],
    [2, 2],
  ];

  for (const reach of [
    [3, 10, 4, 23],
    [1, 1],
    [2, 5, 1],
  ]) {
    it(`gives a whole alternate pass's rows, wherever the outputs lie (reach ${reach.join('+')})`, async () => {
      const model = mockStagedModel(reach);
      const half = model.context / 2;
      const reference = codes(6 * half + 40);
      const cases: { job: ConeJob; expected: Float32Array }[] = [];
      for (const [replaced, altLength] of changes) {
        for (const changeStart of [Math.max(half - 2, 1), 2 * half + 7, reference.length - half - replaced + 1]) {
          const alt = codes(altLength);
          const altSeq = new Uint8Array(reference.length - replaced + altLength);
          altSeq.set(reference.subarray(0, changeStart));
          altSeq.set(alt, changeStart);
          altSeq.set(reference.subarray(changeStart + replaced), changeStart + altLength);
          const rows = await model.predict({ codes: altSeq, batch: 1, length: altSeq.length });
          const lastOutput = altSeq.length - 1 - half;
          // Outputs around the change, at the reference's edges, and only left or right of the change.
          const spans: [number, number][] = [
            [changeStart - 3, changeStart + altLength + 3],
            [half, Math.min(changeStart + altLength + half - 1, lastOutput)],
            [Math.max(changeStart - half, half), lastOutput],
            [Math.max(changeStart - half, half), Math.max(changeStart - 1, half)],
            [Math.min(changeStart + altLength, lastOutput), Math.min(changeStart + altLength + half - 1, lastOutput)],
          ];
          for (const [lo, hi] of spans) {
            const first = Math.max(lo, half);
            const last = Math.min(hi, lastOutput);
            if (first > last) continue;
            const job: ConeJob = { changeStart, alt, replaced, outputStart: first, outputCount: last - first + 1 };
            cases.push({ job, expected: rows.slice((first - half) * 3, (last - half + 1) * 3) });
          }
        }
      }
      expect(cases.length).toBeGreaterThan(80);
      const whole = await model.predict({ codes: reference, batch: 1, length: reference.length });
      for (const batchSize of [1, 3]) {
        for (const c of cases) c.job.output = undefined;
        const referenceRows = await runCones(
          model.stages!,
          reference,
          cases.map((c) => c.job),
          batchSize,
        );
        expect(maxDiff(referenceRows, whole)).toBe(0);
        for (const { job, expected } of cases) expect(maxDiff(job.output!, expected), JSON.stringify({ ...job, output: undefined })).toBeLessThan(1e-6);
      }
    });
  }

  it('refuses outputs that read past the reference or do not see the change, with the numbers', async () => {
    const model = mockStagedModel([2, 3]);
    const half = 5;
    const reference = codes(60);
    const run = (job: ConeJob) => runCones(model.stages!, reference, [job], 2);
    const alt = Uint8Array.of(1, 2, 3);
    // An insertion of 2 makes 62 alternate positions: the last output is 56, a deletion of 2's is 52.
    await expect(run({ changeStart: 45, alt, replaced: 1, outputStart: 50, outputCount: 7 })).resolves.toBeInstanceOf(Float32Array);
    await expect(run({ changeStart: 45, alt, replaced: 1, outputStart: 50, outputCount: 8 })).rejects.toThrow(InvalidArgumentError);
    await expect(run({ changeStart: 45, alt: alt.subarray(0, 1), replaced: 3, outputStart: 50, outputCount: 3 })).resolves.toBeInstanceOf(Float32Array);
    await expect(run({ changeStart: 45, alt: alt.subarray(0, 1), replaced: 3, outputStart: 50, outputCount: 4 })).rejects.toThrow(
      /read reference positions 45\.\.60, outside the reference's 0\.\.59/,
    );
    await expect(run({ changeStart: 30, alt, replaced: 1, outputStart: half - 1, outputCount: 30 })).rejects.toThrow(/outside the reference/);
    await expect(run({ changeStart: 30, alt, replaced: 1, outputStart: 10, outputCount: 10 })).rejects.toThrow(/do not see the change/);
    await expect(run({ changeStart: 58, alt, replaced: 3, outputStart: 40, outputCount: 5 })).rejects.toThrow(/must lie in the reference/);
  });
});

describe('VariantScorer: indels as cones on real models', () => {
  let fasta: FastaReader;
  const sets: Record<number, LoadedModelSet> = {};
  // TUBB8 ('-') from the shared fixture, and the same transcript on '+', so each variant is scored on both strands.
  let annotation: { source: string; rows: AnnotationRecord[] };

  beforeAll(async () => {
    const manager = createModelManager({ modelsDir: MODELS_DIR }).register(createOpenSpliceAIAdapter());
    for (const context of [80, 400, 10000]) sets[context] = await manager.load({ adapter: 'openspliceai', setName: 'openspliceai-mane', context, threads: 2 });
    fasta = await openFasta(resolve(SHARED, 'data', 'chr10_hg19_test.fa'));
    const [tubb8] = (await readAnnotationTable(resolve(SHARED, 'fixtures', 'tubb8_grch37.tsv'))).rows;
    annotation = { source: 'tubb8 both strands', rows: [tubb8, { ...tubb8, name: 'TUBB8_PLUS', strand: '+' }] };
  });
  afterAll(async () => {
    for (const s of Object.values(sets)) await s.dispose();
  });

  /** Deletions, insertions and substitutions at `positions`, REF read from the FASTA. */
  async function variantsAt(positions: readonly number[]): Promise<VariantInput[]> {
    const out: VariantInput[] = [];
    for (const [i, pos] of positions.entries()) {
      const bases = (await fasta.fetch('chr10', pos - 1, pos + 6)).toUpperCase();
      const kind = i % 5;
      if (kind === 0) out.push({ chrom: '10', pos, ref: bases.slice(0, 2), alts: [bases[0]] });
      else if (kind === 1) out.push({ chrom: '10', pos, ref: bases[0], alts: [bases[0] + 'A', bases[0] + 'GTTCA'] });
      else if (kind === 2) out.push({ chrom: '10', pos, ref: bases.slice(0, 7), alts: [bases[0]] });
      else if (kind === 3) out.push({ chrom: '10', pos, ref: bases[0], alts: [bases[0] === 'A' ? 'C' : 'A', bases[0] + 'G'] });
      else out.push({ chrom: '10', pos, ref: bases.slice(0, 3), alts: [bases[1], 'TGA'] }); // TGA: dots
    }
    return out;
  }

  /** Scores with cones and with whole windows (per variant), counting whole-window calls of the first. */
  async function compare(model: LoadedModel, variants: VariantInput[], dist: number): Promise<number> {
    const calls = { predict: 0 };
    const counted: LoadedModel = { ...model, predict: async (b) => (calls.predict++, model.predict(b)) };
    Object.defineProperty(counted, 'stages', { get: () => model.stages });
    const options = { fasta, annotation, dist, keepRows: true };
    const cones = await new VariantScorer({ ...options, model: counted, batchSize: 3 }).scoreMany(variants);
    const whole = await new VariantScorer({ ...options, model, shareReference: false, recomputeChangesOnly: false }).scoreMany(variants);
    let scored = 0;
    cones.forEach((r, i) => {
      expect(r.skipped, JSON.stringify(variants[i])).toEqual(whole[i].skipped);
      expect(r.entries.map((e) => e.text)).toEqual(whole[i].entries.map((e) => e.text));
      r.entries.forEach((e, j) => {
        const w = whole[i].entries[j];
        if (!w.delta) return expect(e.delta).toBeUndefined();
        scored++;
        expect(maxDiff(e.rows!.ref, w.rows!.ref)).toBeLessThan(1e-6);
        expect(maxDiff(e.rows!.alt, w.rows!.alt), `${JSON.stringify(variants[i])} ${e.text}`).toBeLessThan(1e-6);
        e.delta!.scores.forEach((s, k) => expect(Math.abs(s - w.delta!.scores[k])).toBeLessThan(1e-6));
      });
    });
    expect(calls.predict).toBe(0);
    return scored;
  }

  // Near both transcript ends (masking: a deletion at 95528 reaches past txEnd), at exon
  // boundaries, in a cluster (one stretch, variants at its edges) and alone.
  // Kinds cycle by index: the 7-nt deletions (index 2, 7, 12) start at 92897, 94560 and 95526 (past txEnd 95529).
  const positions = [92893, 92894, 92897, 92950, 94054, 94055, 94554, 94560, 94563, 94567, 94852, 95121, 95526, 95500, 95525, 95528];

  for (const [context, dist] of [
    [80, 50],
    [400, 50],
    [400, 3],
  ] as const) {
    it(`gives whole windows' rows and strings (openspliceai-mane ${context}, dist ${dist}, both strands)`, async () => {
      expect(sets[context].model.stages).toBeDefined();
      const scored = await compare(sets[context].model, await variantsAt(positions), dist);
      expect(scored).toBeGreaterThan(positions.length * 2);
    });
  }

  it("gives whole windows' rows at the 10000-nt context (a few variants)", async () => {
    const scored = await compare(sets[10000].model, await variantsAt([92894, 94554, 94563, 95121, 95528]), 50);
    expect(scored).toBeGreaterThan(10);
  });
});
