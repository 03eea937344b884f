import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type GeneScores,
  type LabelOptions,
  POSITIONS_TABLE,
  precisionRecallF1,
  type RankedPosition,
  rankingMetrics,
  selectGenes,
} from '@metaspliceai/genomics';
import { annotatedSites } from '../src/evaluate/sites.js';
import { ChunkRanking, mergeRankings } from '../src/evaluate/ranking.js';
import { clusterGenes, clusterOffset } from '../src/evaluate/clusters.js';
import { compareRanked } from '../src/evaluate/metrics.js';
import { genomicPosition, labelGene, relativePosition } from '../src/evaluate/labels.js';
import { sampleIndices, seededRandom } from '../src/evaluate/sampling.js';
import { tsvLine, writeTableFromParts } from '../src/evaluate/tables.js';
import type { GeneModelGene, GeneModelTranscript } from '@metaspliceai/genomics';

const tx = (id: string, strand: '+' | '-', exons: [number, number][]): GeneModelTranscript => ({
  id,
  geneId: 'G',
  geneName: 'G',
  chrom: 'c',
  strand,
  start: exons[0][0],
  end: exons[exons.length - 1][1],
  tags: [],
  exons: exons.map(([start, end]) => ({ start, end })),
  cds: [],
});

const sorted = (m: Map<number, string[]>) => [...m.keys()].sort((a, b) => a - b);

describe('annotated sites (SpliceAI labels)', () => {
  it('+ strand: acceptor = first base of every exon but the first, donor = last base of every exon but the last', () => {
    const s = annotatedSites([
      tx('T1', '+', [
        [10, 20],
        [30, 40],
        [50, 60],
      ]),
    ]);
    expect(sorted(s.acceptor)).toEqual([30, 50]);
    expect(sorted(s.donor)).toEqual([20, 40]);
  });
  it('- strand: in transcript orientation, so an exon’s higher end is its acceptor and its lower end its donor', () => {
    const s = annotatedSites([
      tx('T1', '-', [
        [10, 20],
        [30, 40],
        [50, 60],
      ]),
    ]);
    expect(sorted(s.acceptor)).toEqual([20, 40]);
    expect(sorted(s.donor)).toEqual([30, 50]);
  });
  it('TUBB8 (GRCh37, -): the sites SpliceAI labels', () => {
    // #NAME TUBB8 10 - 92892 95529 exons 92892-94054, 94554-94665, 94743-94852, 95121-95529 (0-based starts)
    const s = annotatedSites([
      tx('TUBB8', '-', [
        [92893, 94054],
        [94555, 94665],
        [94744, 94852],
        [95122, 95529],
      ]),
    ]);
    expect(sorted(s.acceptor)).toEqual([94054, 94665, 94852]);
    expect(sorted(s.donor)).toEqual([94555, 94744, 95122]);
  });
  it('single-exon transcripts add no sites; the union keeps every transcript that has a site', () => {
    expect(annotatedSites([tx('S', '+', [[5, 500]])]).acceptor.size).toBe(0);
    const s = annotatedSites([
      tx('A', '+', [
        [10, 20],
        [30, 40],
      ]),
      tx('B', '+', [
        [10, 20],
        [35, 40],
      ]),
      tx('S', '+', [[1, 100]]),
    ]);
    expect([...s.donor]).toEqual([[20, ['A', 'B']]]);
    expect(new Map(s.acceptor)).toEqual(
      new Map([
        [30, ['A']],
        [35, ['B']],
      ]),
    );
  });
  it('canonical vs all transcripts through selectGenes', () => {
    const gene: GeneModelGene = {
      id: 'G.3',
      name: 'GENE',
      chrom: 'chr1',
      strand: '+',
      start: 10,
      end: 60,
      biotype: 'protein_coding',
      transcripts: [
        tx('short', '+', [
          [10, 20],
          [30, 40],
        ]),
        {
          ...tx('mane', '+', [
            [10, 20],
            [50, 60],
          ]),
          tags: ['MANE_Select'],
        },
      ],
    };
    const model = { genes: [gene], chroms: ['chr1'] };
    expect(selectGenes(model).genes[0].transcripts.map((t) => t.id)).toEqual(['mane']);
    expect(selectGenes(model, { transcripts: 'all' }).genes[0].transcripts.map((t) => t.id)).toEqual(['short', 'mane']);
    expect(selectGenes(model, { genes: ['G'] }).genes).toHaveLength(1); // id without version
    expect(selectGenes(model, { genes: ['GENE'], chromosomes: ['1'] }).genes).toHaveLength(1); // name, chr prefix
    const miss = selectGenes(model, { genes: ['NOPE', 'GENE'], biotypes: ['lncRNA'] });
    expect(miss.genes).toHaveLength(0);
    expect(miss.unmatched.map((u) => [u.requested, u.reason])).toEqual([
      ['NOPE', 'no gene with this id or name in the annotation'],
      ['GENE', 'left out by --chromosomes/--biotype'],
    ]);
  });
});

describe('gene clusters (neighbouring genes predicted together)', () => {
  const g = (id: string, strand: '+' | '-', start: number, end: number) => ({ id, gene: { start, end, strand } });
  it('joins genes of one strand at most `context` apart, nested ones included, up to a size', () => {
    const genes = [g('a', '+', 100, 200), g('b', '+', 211, 300), g('c', '-', 150, 160), g('d', '+', 250, 260), g('e', '+', 312, 400), g('f', '-', 172, 180)];
    const clusters = clusterGenes(genes, 10);
    expect(clusters.map((c) => [c.strand, c.start, c.end, c.genes.map((x) => x.id).join('')])).toEqual([
      ['+', 100, 300, 'abd'], // b starts 10 bases after a; d lies inside b
      ['-', 150, 160, 'c'], // f starts 11 bases after c
      ['-', 172, 180, 'f'],
      ['+', 312, 400, 'e'], // 11 bases after b
    ]);
    expect(clusterGenes(genes, 10, 150).map((c) => c.genes.map((x) => x.id).join(''))).toEqual(['a', 'c', 'f', 'bd', 'e']);
  });
  it('a gene’s rows start at its 5’ end within the cluster on either strand', () => {
    expect(clusterOffset({ strand: '+', start: 100, end: 300 }, { start: 211, end: 250 })).toBe(111);
    expect(clusterOffset({ strand: '-', start: 100, end: 300 }, { start: 211, end: 250 })).toBe(50);
  });
});

describe('gene-relative positions', () => {
  it('count 5’->3’ from the gene start on + and from the gene end on -', () => {
    const plus = { strand: '+' as const, start: 101, end: 200 };
    const minus = { strand: '-' as const, start: 101, end: 200 };
    expect(relativePosition(plus, 101)).toBe(0);
    expect(relativePosition(plus, 150)).toBe(49);
    expect(relativePosition(minus, 200)).toBe(0);
    expect(relativePosition(minus, 101)).toBe(99);
    expect(relativePosition(minus, 150)).toBe(50);
    expect(genomicPosition(minus, 50)).toBe(150);
  });
});

const options = (o: Partial<LabelOptions> = {}): LabelOptions => ({ threshold: 0.5, window: 2, errorWindow: 3, tnSample: 'none', seed: 1, ...o });
function scoresOf(length: number, acceptor: Record<number, number>, donor: Record<number, number> = {}): GeneScores {
  const s = { acceptor: new Float32Array(length), donor: new Float32Array(length), neither: new Float32Array(length) };
  for (const [k, v] of Object.entries(acceptor)) s.acceptor[Number(k)] = v;
  for (const [k, v] of Object.entries(donor)) s.donor[Number(k)] = v;
  for (let k = 0; k < length; k++) s.neither[k] = 1 - s.acceptor[k] - s.donor[k];
  return s;
}

describe('labelling TP / FP / FN / TN', () => {
  // Gene 1001..1030 on +: relative k = genomic - 1001.
  const gene = { id: 'G', chrom: 'c', strand: '+' as const, start: 1001, end: 1030 };
  const sites = {
    acceptor: new Map([
      [1006, ['T']],
      [1016, ['T']],
    ]),
    donor: new Map([[1026, ['T']]]),
  };

  it('matches calls within +-window; the TP row carries the best call; far calls are FP; unmatched sites FN', () => {
    // acceptor site k=5: calls at k=6 (0.6) and k=7 (0.9) -> TP at 7 (best score); k=15 has no call -> FN;
    // call at k=20 -> FP; donor site k=25 with call exactly there (0.5 = threshold) -> TP.
    const s = scoresOf(30, { 6: 0.6, 7: 0.9, 20: 0.7, 15: 0.49 }, { 25: 0.5 });
    const l = labelGene(gene, sites, s, options());
    const rows = l.positions.map((r) => [r.pred_type, r.splice_type, r.position, r.predicted_position, r.true_position, r.score]);
    expect(rows).toEqual([
      ['TP', 'acceptor', 7, 7, 5, Math.fround(0.9)],
      ['FN', 'acceptor', 15, null, 15, Math.fround(0.49)],
      ['FP', 'acceptor', 20, 20, null, Math.fround(0.7)],
      ['TP', 'donor', 25, 25, 25, 0.5],
    ]);
    expect(l.counts).toEqual({ acceptor: { sites: 2, tp: 1, fp: 1, fn: 1 }, donor: { sites: 1, tp: 1, fp: 0, fn: 0 } });
    // The call at k=6 is within the window of the site: neither TP nor FP.
    expect(l.errors.map((e) => [e.error_type, e.splice_type, e.position, e.window_start, e.window_end])).toEqual([
      ['FN', 'acceptor', 15, 12, 18],
      ['FP', 'acceptor', 20, 17, 23],
    ]);
    const tp = l.positions[0];
    expect([tp.context_score_m2, tp.context_score_m1, tp.context_score_p1, tp.context_score_p2]).toEqual([0, Math.fround(0.6), 0, 0]);
    expect(tp.transcript_id).toBe('T');
  });

  it('a call just outside the window is an FP and the site an FN', () => {
    const l = labelGene(gene, sites, scoresOf(30, { 8: 0.9 }), options()); // site k=5, call k=8, window 2
    expect(l.positions.filter((r) => r.splice_type === 'acceptor').map((r) => `${r.pred_type}${r.position}`)).toEqual(['FN5', 'FP8', 'FN15']);
    expect(labelGene(gene, sites, scoresOf(30, { 8: 0.9 }), options({ window: 3 })).counts.acceptor).toEqual({ sites: 2, tp: 1, fp: 0, fn: 1 });
  });

  it('ties between calls go to the nearest, then the 5’-most', () => {
    const l = labelGene(gene, sites, scoresOf(30, { 3: 0.8, 6: 0.8, 7: 0.8 }), options());
    expect(l.positions[0]).toMatchObject({ pred_type: 'TP', predicted_position: 6, true_position: 5 });
    const l2 = labelGene(gene, sites, scoresOf(30, { 4: 0.8, 6: 0.8 }), options());
    expect(l2.positions[0]).toMatchObject({ pred_type: 'TP', predicted_position: 4 });
  });

  it('- strand: sites and calls in gene-relative coordinates from the gene end', () => {
    const minus = { id: 'M', chrom: 'c', strand: '-' as const, start: 1001, end: 1030 };
    // acceptor at genomic 1025 -> k = 1030 - 1025 = 5
    const l = labelGene(minus, { acceptor: new Map([[1025, ['T']]]), donor: new Map() }, scoresOf(30, { 5: 0.95 }), options());
    expect(l.positions).toHaveLength(1);
    expect(l.positions[0]).toMatchObject({ pred_type: 'TP', position: 5, true_position: 5, strand: '-' });
  });

  it('TN sampling: 1.2 x (TP+FP+FN) per gene, uniform over the rest, seeded; all; none', () => {
    const s = scoresOf(30, { 7: 0.9, 20: 0.7 }, { 25: 0.5 });
    const base = labelGene(gene, sites, s, options());
    const labelled = base.positions.length; // TP, FN, FP, TP = 4
    expect(labelled).toBe(4);
    const sample = (o: Partial<LabelOptions>) => labelGene(gene, sites, s, options(o)).positions.filter((r) => r.pred_type === 'TN');
    expect(sample({ tnSample: 1.2 })).toHaveLength(Math.round(1.2 * 4));
    // Not TN: the 3 sites (k 5, 15, 25) and the 3 calls (k 7, 20, 25): 30 - 5 distinct = 25.
    const all = sample({ tnSample: 'all' });
    expect(all).toHaveLength(25);
    expect(all.map((r) => r.position)).not.toContain(7);
    expect(all.map((r) => r.position)).not.toContain(15);
    expect(sample({ tnSample: 'none' })).toHaveLength(0);
    expect(sample({ tnSample: 100 })).toHaveLength(25); // capped at what there is
    const a = sample({ tnSample: 1.2, seed: 7 }).map((r) => r.position);
    expect(sample({ tnSample: 1.2, seed: 7 }).map((r) => r.position)).toEqual(a);
    const seeds = new Set(
      [1, 2, 3, 4, 5, 6].map((seed) =>
        sample({ tnSample: 1.2, seed })
          .map((r) => r.position)
          .join(','),
      ),
    );
    expect(seeds.size).toBeGreaterThan(1);
    expect(all.every((r) => r.splice_type === '' && r.transcript_id === '')).toBe(true);
  });

  it('sampleIndices: distinct, in range, ascending, uniform enough', () => {
    const random = seededRandom(3);
    const hits = new Array(10).fill(0);
    for (let i = 0; i < 2000; i++) {
      const s = sampleIndices(10, 3, random);
      expect(new Set(s).size).toBe(3);
      expect([...s].sort((a, b) => a - b)).toEqual(s);
      for (const x of s) hits[x]++;
    }
    for (const h of hits) expect(h).toBeGreaterThan(500); // expected 600 each
    expect(sampleIndices(5, 9, random)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('metrics', () => {
  const p = (score: number, position: number, site: boolean, chrom = 0): RankedPosition => ({ score, chrom, position, site });

  it('top-k and average precision, ties broken by genomic position', () => {
    // Ranked: (0.9, pos 1, -), (0.9, pos 3, +), (0.5, pos 2, +), (0.1, pos 4, -). k = 2.
    const m = rankingMetrics([p(0.5, 2, true), p(0.9, 3, true), p(0.1, 4, false), p(0.9, 1, false)]);
    expect(m.topKAccuracy).toBe(0.5);
    expect(m.averagePrecision).toBeCloseTo((1 / 2 + 2 / 3) / 2, 12);
    // Swap the tie: the site now comes first.
    const m2 = rankingMetrics([p(0.5, 2, true), p(0.9, 1, true), p(0.1, 4, false), p(0.9, 3, false)]);
    expect(m2.topKAccuracy).toBe(0.5);
    expect(m2.averagePrecision).toBeCloseTo((1 / 1 + 2 / 3) / 2, 12);
    // Contigs rank before coordinates.
    expect(compareRanked(p(0.5, 100, false, 0), p(0.5, 1, false, 1))).toBeLessThan(0);
    expect(rankingMetrics([p(0.2, 1, false)]).averagePrecision).toBeNull();
  });

  it('a perfect ranking scores 1; precision, recall, F1 from TP/FP/FN', () => {
    expect(rankingMetrics([p(0.9, 1, true), p(0.8, 2, true), p(0.1, 3, false)])).toEqual({ topKAccuracy: 1, averagePrecision: 1 });
    expect(precisionRecallF1({ tp: 3, fp: 1, fn: 2 })).toEqual({ precision: 0.75, recall: 0.6, f1: (2 * 0.75 * 0.6) / 1.35 });
    expect(precisionRecallF1({ tp: 0, fp: 0, fn: 0 })).toEqual({ precision: null, recall: null, f1: null });
  });

  it('merging ranked chunk files gives the in-memory ranking, ties across chunks included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'msai-rank-'));
    const random = seededRandom(11);
    const all: RankedPosition[] = [];
    const files = [];
    for (let c = 0; c < 4; c++) {
      const chunk = new ChunkRanking();
      for (let i = 0; i < 3000; i++) {
        // few distinct scores, so ties are everywhere
        const score = Math.fround(Math.floor(random() * 20) / 20);
        const position = Math.floor(random() * 5000) + 1;
        const site = random() < 0.05;
        chunk.add(score, position, site);
        all.push(p(score, position, site, c >> 1));
      }
      const path = join(dir, `c${c}.rank`);
      writeFileSync(path, chunk.encode());
      files.push({ path, chrom: c >> 1 });
    }
    const expected = rankingMetrics(all);
    const merged = mergeRankings(files, all.filter((x) => x.site).length);
    expect(merged.topKAccuracy).toBeCloseTo(expected.topKAccuracy!, 12);
    expect(merged.averagePrecision).toBeCloseTo(expected.averagePrecision!, 12);
  });
});

describe('tables', () => {
  it('TSV and Parquet from chunk parts; Parquet reads back with its columns and types', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msai-tables-'));
    const row = {
      gene_id: 'G',
      transcript_id: 'T1,T2',
      position: 7,
      predicted_position: 7,
      true_position: null,
      pred_type: 'FP',
      score: Math.fround(0.7),
      strand: '-',
      donor_score: 0.001,
      acceptor_score: Math.fround(0.7),
      neither_score: 0.299,
      splice_type: 'acceptor',
      chrom: 'chr1',
      context_score_m2: 0,
      context_score_m1: 0.1,
      context_score_p1: 0.2,
      context_score_p2: 0.3,
    };
    const line = tsvLine(POSITIONS_TABLE, row);
    expect(line).toBe('G\tT1,T2\t7\t7\t\tFP\t0.7\t-\t0.001\t0.7\t0.299\tacceptor\tchr1\t0\t0.1\t0.2\t0.3\n');
    writeFileSync(join(dir, 'a.tsv'), line);
    writeFileSync(join(dir, 'b.tsv'), '');
    writeFileSync(join(dir, 'c.tsv'), tsvLine(POSITIONS_TABLE, { ...row, gene_id: 'H', position: 9 }));
    const parts = ['a.tsv', 'b.tsv', 'c.tsv'].map((f) => join(dir, f));
    await writeTableFromParts(POSITIONS_TABLE, parts, join(dir, 'out.tsv'), 'tsv');
    const { readFileSync } = await import('node:fs');
    const tsv = readFileSync(join(dir, 'out.tsv'), 'utf8').split('\n');
    expect(tsv[0].split('\t')).toEqual(POSITIONS_TABLE.columns.map(([n]) => n));
    expect(tsv).toHaveLength(4);
    await writeTableFromParts(POSITIONS_TABLE, parts, join(dir, 'out.parquet'), 'parquet');
    const { parquetReadObjects, parquetMetadata } = await import('hyparquet');
    const buffer = readFileSync(join(dir, 'out.parquet'));
    const file = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
    const rows = await parquetReadObjects({ file });
    expect(rows).toHaveLength(2);
    expect(Object.keys(rows[0])).toEqual(POSITIONS_TABLE.columns.map(([n]) => n));
    expect(rows[0]).toMatchObject({ gene_id: 'G', position: 7, predicted_position: 7, true_position: null, pred_type: 'FP', splice_type: 'acceptor' });
    expect(rows[0].score).toBeCloseTo(0.7, 6);
    expect(rows[1].gene_id).toBe('H');
    expect(parquetMetadata(file).schema.find((s) => s.name === 'score')?.type).toBe('FLOAT');
  });
});
