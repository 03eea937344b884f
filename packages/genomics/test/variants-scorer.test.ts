import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mockModel, mockStagedModel } from '@metaspliceai/core/testing';
import { type LoadedModel } from '@metaspliceai/core';
import { type AnnotationRecord, computeDeltaScores, formatDeltaEntry, openFasta, VariantScorer, type VariantInput } from '@metaspliceai/genomics';
import { transcriptDistances } from '../src/annotations/lookup.js';

// A small genome with soft-masked (lower-case) stretches and IUPAC codes, two genes that overlap
// on opposite strands, and a second contig.
function makeGenome(): Map<string, string> {
  let seed = 11;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  let chr1 = '';
  for (let i = 0; i < 3000; i++) chr1 += 'ACGT'[Math.floor(next() * 4)];
  chr1 = `${chr1.slice(0, 700)}${chr1.slice(700, 760).toLowerCase()}${chr1.slice(760, 1500)}RYKMN${chr1.slice(1505)}`;
  let chr2 = '';
  for (let i = 0; i < 400; i++) chr2 += 'ACGT'[Math.floor(next() * 4)];
  return new Map([
    ['chr1', chr1],
    ['chr2', chr2],
  ]);
}

const ROWS: AnnotationRecord[] = [
  { name: 'PLUS', chrom: '1', strand: '+', txStart: 200, txEnd: 2500, exonStarts: [200, 600, 1200], exonEnds: [400, 900, 2500] },
  { name: 'MINUS', chrom: '1', strand: '-', txStart: 1000, txEnd: 2900, exonStarts: [1000, 1800], exonEnds: [1500, 2900] },
  { name: 'SHORT', chrom: '2', strand: '-', txStart: 10, txEnd: 390, exonStarts: [10, 200], exonEnds: [100, 390] },
];

async function writeFasta(genome: Map<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-variants-'));
  const path = join(dir, 'genome.fa');
  let text = '';
  for (const [name, seq] of genome) text += `>${name}\n${seq.replace(/(.{60})/g, '$1\n').replace(/\n$/, '')}\n`;
  await fs.writeFile(path, text);
  return path;
}

/** SpliceAI's one_hot_encode as codes: upper(), ACGTN -> 1,2,3,4,0, anything else -> byte % 5. */
function spliceaiCodes(s: string): Uint8Array {
  const map: Record<string, number> = { A: 1, C: 2, G: 3, T: 4, N: 0 };
  return Uint8Array.from(s.toUpperCase(), (ch) => map[ch] ?? ch.charCodeAt(0) % 5);
}

/** get_delta_scores of spliceai/utils.py transcribed line by line, one model call per window. */
async function naiveScores(
  genome: Map<string, string>,
  rows: AnnotationRecord[],
  v: VariantInput,
  dist: number,
  mask: boolean,
  model: LoadedModel,
): Promise<string[]> {
  const cov = 2 * dist + 1;
  const wid = model.context + cov;
  const half = Math.floor(wid / 2);
  const chrom = v.chrom.replace(/^chr/, '');
  const idxs = rows.map((_, i) => i).filter((i) => rows[i].chrom === chrom && rows[i].txStart + 1 <= v.pos && v.pos <= rows[i].txEnd);
  if (!idxs.length) return [];
  const contig = genome.get(`chr${chrom}`)!;
  const start = v.pos - half - 1;
  if (start < 0) return [];
  const seq = contig.slice(start, v.pos + half);
  if (seq.slice(half, half + v.ref.length).toUpperCase() !== v.ref.toUpperCase()) return [];
  if (seq.length !== wid) return [];
  if (v.ref.length > 2 * dist) return [];
  const out: string[] = [];
  const predict = async (codes: Uint8Array, minus: boolean) => {
    const input = minus
      ? Uint8Array.from(codes, (_, i) => {
          const c = codes[codes.length - 1 - i];
          return c ? 5 - c : 0;
        })
      : codes;
    const y = await model.predict({ codes: input, batch: 1, length: input.length });
    if (!minus) return y;
    const r = new Float32Array(y.length);
    for (let k = 0; k < y.length / 3; k++) r.set(y.subarray((y.length / 3 - 1 - k) * 3, (y.length / 3 - k) * 3), k * 3);
    return r;
  };
  for (const alt of v.alts) {
    for (const i of idxs) {
      if (/[.\-*<>]/.test(alt)) continue;
      const row = rows[i];
      if (v.ref.length > 1 && alt.length > 1) {
        out.push(`${alt}|${row.name}|.|.|.|.|.|.|.|.`);
        continue;
      }
      // Our one departure: SpliceAI reads IUPAC codes in REF or ALT as other bases (R as C); we leave such ALTs out.
      if (/[^ACGTN]/i.test(v.ref + alt)) continue;
      const d = transcriptDistances(row, v.pos);
      const pad = [Math.max(half + d.txStart, 0), Math.max(half - d.txEnd, 0)];
      const xRef = 'N'.repeat(pad[0]) + seq.slice(pad[0], wid - pad[1]) + 'N'.repeat(pad[1]);
      const xAlt = xRef.slice(0, half) + alt + xRef.slice(half + v.ref.length);
      const yRef = await predict(spliceaiCodes(xRef), row.strand === '-');
      const yAlt = await predict(spliceaiCodes(xAlt), row.strand === '-');
      const delta = computeDeltaScores({
        ref: yRef,
        alt: yAlt,
        refLength: v.ref.length,
        altLength: alt.length,
        dist,
        mask,
        exonBoundaryDistance: d.exonBoundary,
      });
      out.push(formatDeltaEntry(alt, row.name, delta));
    }
  }
  return out;
}

function variantsFor(genome: Map<string, string>, count: number, dist: number): VariantInput[] {
  let seed = 5 + dist;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const chr1 = genome.get('chr1')!;
  const out: VariantInput[] = [];
  // Positions near transcript ends and exon boundaries, and anywhere.
  const hot = [201, 202, 250, 400, 401, 601, 899, 1001, 1002, 1500, 1501, 2499, 2500, 2501, 2899, 2900, 2960, 2990, 40, 1503];
  for (let i = 0; i < count; i++) {
    const pos = i < hot.length ? hot[i] : 150 + Math.floor(next() * 2800);
    const kind = i % 5;
    const refLen = kind === 2 ? 2 + Math.floor(next() * Math.max(2 * dist, 1)) : kind === 4 ? 2 : 1;
    const ref = chr1.slice(pos - 1, pos - 1 + refLen);
    if (ref.length !== refLen) continue;
    const base = () => 'ACGT'[Math.floor(next() * 4)];
    const alts =
      kind === 0 ? [base()] : kind === 1 ? [ref + base() + base(), base()] : kind === 2 ? [ref[0]] : kind === 3 ? [base(), '<DEL>', '*'] : [base() + base()];
    out.push({ chrom: i % 2 ? 'chr1' : '1', pos, ref: i % 7 === 0 ? ref.toLowerCase() : ref, alts });
  }
  return out;
}

describe('VariantScorer', () => {
  const genome = makeGenome();

  for (const [dist, context] of [
    [5, 80],
    [1, 8],
    [30, 80],
  ] as const) {
    it(`gives SpliceAI's strings for every variant (dist ${dist}, context ${context}), shared or not, any batch size`, async () => {
      const fasta = await openFasta(await writeFasta(genome));
      const model = mockModel(context);
      const variants = variantsFor(genome, 80, dist);
      const expected: string[][] = [];
      for (const v of variants) expected.push(await naiveScores(genome, ROWS, { ...v, ref: v.ref.toUpperCase() }, dist, false, model));
      for (const [shareReference, batchSize, referenceTileSize] of [
        [true, 7, 5000],
        [false, 1, 5000],
        [true, 3, 13],
      ] as const) {
        const scorer = new VariantScorer({ model, fasta, annotation: { source: 'test', rows: ROWS }, dist, shareReference, batchSize, referenceTileSize });
        const results = await scorer.scoreMany(variants);
        results.forEach((r, i) => {
          expect(
            r.entries.map((e) => e.text),
            `${JSON.stringify(variants[i])} shared=${shareReference}`,
          ).toEqual(expected[i]);
        });
      }
    });
  }

  for (const [dist, reach] of [
    [5, [3, 10, 4, 23]],
    [30, [1, 38, 1]],
    [2, [1, 1]],
  ] as const) {
    it(`recomputes only what a variant changes, to the same numbers (dist ${dist}, reach ${reach.join('+')})`, async () => {
      const fasta = await openFasta(await writeFasta(genome));
      const model = mockStagedModel(reach);
      const calls = { runs: 0 };
      const counted: LoadedModel = { ...model, predict: async (b) => (calls.runs++, model.predict(b)) };
      Object.defineProperty(counted, 'stages', { get: () => model.stages });
      const variants = variantsFor(genome, 80, dist);
      const annotation = { source: 't', rows: ROWS };
      const whole = await new VariantScorer({ model, fasta, annotation, dist, recomputeChangesOnly: false }).scoreMany(variants);
      for (const batchSize of [undefined, 1, 4]) {
        const scorer = new VariantScorer({ model: counted, fasta, annotation, dist, batchSize });
        // Without a batch size, cones run two per stage call (the grouped trunk fills the threads) and whole windows four.
        expect([scorer.coneBatchSize, scorer.batchSize]).toEqual(batchSize ? [batchSize, batchSize] : [2, 4]);
        const cones = await scorer.scoreMany(variants);
        cones.forEach((r, i) => {
          expect(
            r.entries.map((e) => e.text),
            JSON.stringify(variants[i]),
          ).toEqual(whole[i].entries.map((e) => e.text));
          r.entries.forEach((e, j) => {
            const w = whole[i].entries[j].delta;
            if (!w) return expect(e.delta).toBeUndefined();
            expect(e.delta!.positions).toEqual(w.positions);
            e.delta!.scores.forEach((s, k) => expect(Math.abs(s - w.scores[k])).toBeLessThan(1e-6));
          });
        });
      }
      // Substitutions, deletions and insertions alike never run whole windows.
      expect(variants.some((v) => v.alts.some((a) => a.length !== v.ref.length))).toBe(true);
      calls.runs = 0;
      await new VariantScorer({ model: counted, fasta, annotation, dist }).scoreMany(variants);
      expect(calls.runs).toBe(0);
      expect(whole.some((r) => r.entries.some((e) => e.delta && e.delta.scores.some((s) => s > 0.01)))).toBe(true);
    });
  }

  it('computes identical numbers with the shared reference pass and the per-variant windows', async () => {
    const fasta = await openFasta(await writeFasta(genome));
    const model = mockModel(80, 0.001);
    const variants = variantsFor(genome, 60, 12);
    const shared = await new VariantScorer({ model, fasta, annotation: { source: 't', rows: ROWS }, dist: 12, shareReference: true }).scoreMany(variants);
    const single = await new VariantScorer({ model, fasta, annotation: { source: 't', rows: ROWS }, dist: 12, shareReference: false }).scoreMany(variants);
    expect(shared.map((r) => r.entries.map((e) => e.delta))).toEqual(single.map((r) => r.entries.map((e) => e.delta)));
    expect(shared.some((r) => r.entries.some((e) => e.delta && e.delta.scores.some((s) => s !== 0)))).toBe(true);
  });

  it('uses fewer model positions when the reference is shared', async () => {
    const fasta = await openFasta(await writeFasta(genome));
    const base = mockModel(80);
    const count = { positions: 0 };
    const model: LoadedModel = { ...base, predict: async (b) => ((count.positions += b.batch * b.length), base.predict(b)) };
    const variants = Array.from({ length: 40 }, (_, i) => ({ chrom: '1', pos: 1600 + i * 3, ref: genome.get('chr1')![1599 + i * 3], alts: ['A'] }));
    await new VariantScorer({ model, fasta, annotation: { source: 't', rows: ROWS }, shareReference: false }).scoreMany(variants);
    const single = count.positions;
    count.positions = 0;
    await new VariantScorer({ model, fasta, annotation: { source: 't', rows: ROWS }, shareReference: true }).scoreMany(variants);
    expect(count.positions).toBeLessThan(single * 0.75);
  });

  it('says why a record gets no score', async () => {
    const fasta = await openFasta(await writeFasta(genome));
    const scorer = new VariantScorer({
      model: mockModel(80),
      fasta,
      annotation: { source: 't', rows: [...ROWS, { name: 'GHOST', chrom: '3', strand: '+', txStart: 0, txEnd: 100, exonStarts: [0], exonEnds: [100] }] },
      dist: 5,
    });
    const chr1 = genome.get('chr1')!;
    const cases: [VariantInput, string | undefined][] = [
      [{ chrom: '1', pos: 100, ref: chr1[99], alts: ['A'] }, 'outside-genes'],
      [{ chrom: '3', pos: 50, ref: 'A', alts: ['C'] }, 'contig-missing'],
      [{ chrom: '2', pos: 20, ref: genome.get('chr2')![19], alts: ['A'] }, 'contig-end'],
      [{ chrom: '1', pos: 300, ref: chr1[299] === 'A' ? 'C' : 'A', alts: ['G'] }, 'ref-mismatch'],
      [{ chrom: '1', pos: 300, ref: chr1.slice(299, 311), alts: [chr1[299]] }, 'ref-too-long'],
      [{ chrom: '1', pos: 300, ref: chr1[299], alts: ['<DEL>', '*', '.', 'G]2:100]'] }, 'no-scorable-alt'],
      [{ chrom: '1', pos: 300, ref: chr1[299], alts: [] }, 'no-scorable-alt'],
      [{ chrom: 'chr1', pos: 300, ref: chr1[299].toLowerCase(), alts: ['<DEL>', 'A'] }, undefined],
    ];
    const results = await scorer.scoreMany(cases.map((c) => c[0]));
    results.forEach((r, i) => expect(r.skipped?.reason, JSON.stringify(cases[i][0])).toBe(cases[i][1]));
    expect(results[7].ignoredAlts).toEqual(['<DEL>']);
    expect(results[7].entries.map((e) => e.gene)).toEqual(['PLUS']);
  });

  it('orders entries ALT by ALT, then gene by gene in table order, with dots for REF and ALT both longer than 1', async () => {
    const fasta = await openFasta(await writeFasta(genome));
    const scorer = new VariantScorer({ model: mockModel(80), fasta, annotation: { source: 't', rows: ROWS }, dist: 5 });
    const chr1 = genome.get('chr1')!;
    const [snv] = await scorer.scoreMany([{ chrom: '1', pos: 2000, ref: chr1[1999], alts: ['A', 'C'] }]);
    expect(snv.entries.map((e) => `${e.alt}|${e.gene}`)).toEqual(['A|PLUS', 'A|MINUS', 'C|PLUS', 'C|MINUS']);
    const [mnv] = await scorer.scoreMany([{ chrom: '1', pos: 2000, ref: chr1.slice(1999, 2001), alts: ['TT', 'T'] }]);
    expect(mnv.entries[0].text).toBe('TT|PLUS|.|.|.|.|.|.|.|.');
    expect(mnv.entries[2].text).toMatch(/^T\|PLUS\|\d\.\d\d\|/);
  });

  it('refuses out-of-range options with typed errors', () => {
    const base = { model: mockModel(80), fasta: {} as never, annotation: { source: 't', rows: ROWS } };
    expect(() => new VariantScorer({ ...base, dist: 10001 })).toThrow(/dist/);
    expect(() => new VariantScorer({ ...base, precision: -1 })).toThrow(/precision/);
    expect(() => new VariantScorer({ ...base, batchSize: 0 })).toThrow(/batch/);
  });
});
