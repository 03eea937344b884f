import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type LoadedModel, SPLICE_CLASS_TRACKS } from '@metaspliceai/core';
import { mergeEvaluations, openFasta, runEvaluation, SequenceInference } from '@metaspliceai/genomics';

/**
 * A deterministic stand-in model (context 10): a base's acceptor score is high after `AG`, its
 * donor score high before `GT`, each read from the real input around it, so flanks matter.
 */
function motifModel(): LoadedModel & { calls: number } {
  const context = 10;
  const model = {
    context,
    tracks: SPLICE_CLASS_TRACKS,
    backend: 'js',
    device: 'cpu' as const,
    calls: 0,
    async predict({ codes, batch, length }: { codes: Uint8Array; batch: number; length: number }) {
      model.calls++;
      const outputs = length - context;
      const out = new Float32Array(batch * outputs * 3);
      for (let b = 0; b < batch; b++) {
        const row = codes.subarray(b * length, (b + 1) * length);
        for (let i = 0; i < outputs; i++) {
          const j = i + context / 2;
          const acc = row[j - 2] === 1 && row[j - 1] === 3 ? 0.9 : 0.01 * (row[j] + 1);
          const don = row[j + 1] === 3 && row[j + 2] === 4 ? 0.8 : 0.005 * (row[j] + 1);
          out.set([1 - acc - don, acc, don], (b * outputs + i) * 3);
        }
      }
      return out;
    },
    async dispose() {},
  };
  return model;
}

/** A 600-base contig and genes on both strands, two contigs, one gene past the contig end. */
function fixture(dir: string) {
  let seq = '';
  let state = 12345;
  const bases = 'ACGT';
  for (let i = 0; i < 600; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    seq += bases[state >>> 30];
  }
  writeFileSync(join(dir, 'g.fa'), `>chr1\n${seq.slice(0, 300)}\n>chr2\n${seq.slice(300)}\n`);
  const gtf = [
    [
      'chr1',
      '+',
      'G1',
      [
        [20, 60],
        [100, 140],
        [200, 240],
      ],
    ],
    [
      'chr1',
      '-',
      'G2',
      [
        [50, 90],
        [150, 190],
      ],
    ],
    ['chr1', '+', 'G3', [[250, 290]]],
    [
      'chr2',
      '-',
      'G4',
      [
        [10, 80],
        [120, 170],
        [220, 280],
      ],
    ],
    [
      'chr2',
      '+',
      'G5',
      [
        [200, 260],
        [290, 340],
      ],
    ], // past the end of chr2 (300 bases)
    [
      'chr1',
      '+',
      'G6',
      [
        [90, 110],
        [130, 150],
      ],
    ], // inside G1: its bases are evaluated once per gene
  ] as const;
  const lines: string[] = [];
  for (const [chrom, strand, id, exons] of gtf) {
    const start = exons[0][0];
    const end = exons[exons.length - 1][1];
    lines.push([chrom, 't', 'gene', start, end, '.', strand, '.', `gene_id "${id}"; gene_name "${id}n"; gene_type "protein_coding";`].join('\t'));
    lines.push([chrom, 't', 'transcript', start, end, '.', strand, '.', `gene_id "${id}"; transcript_id "${id}.t"; gene_name "${id}n";`].join('\t'));
    for (const [s, e] of exons)
      lines.push([chrom, 't', 'exon', s, e, '.', strand, '.', `gene_id "${id}"; transcript_id "${id}.t"; gene_name "${id}n";`].join('\t'));
  }
  writeFileSync(join(dir, 'g.gtf'), `${lines.join('\n')}\n`);
}

const fixedNow = () => new Date('2026-01-01T00:00:00.000Z');
const stable = (dir: string, name: string) =>
  readFileSync(join(dir, name), 'utf8')
    .split('\n')
    .map((l) => l.replace(/\t[0-9.]+\t([^\t]*\t[^\t]*\t)2026-01-01T00:00:00.000Z$/, '\tT\t$1'))
    .join('\n');

async function run(dir: string, out: string, extra: Partial<Parameters<typeof runEvaluation>[0]> = {}) {
  const model = motifModel();
  const inference = new SequenceInference({ models: model, tileSize: 64, batchSize: 2 });
  const summary = await runEvaluation({
    fasta: await openFasta(join(dir, 'g.fa')),
    annotation: join(dir, 'g.gtf'),
    inference,
    outputDir: out,
    chunkGenes: 1,
    model: { set: 'motif' },
    now: fixedNow,
    ...extra,
  });
  return { summary, model };
}

describe('runEvaluation', () => {
  it('writes every table, a manifest row per requested gene, and metrics that match the positions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msai-eval-'));
    fixture(dir);
    const out = join(dir, 'out');
    const { summary } = await run(dir, out, { genes: ['G1', 'G2', 'G4', 'G5', 'NOPE', 'G3'], nucleotideScores: true, tnSample: 'all' });
    const manifest = readFileSync(join(out, 'gene_manifest.tsv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(manifest[0].slice(0, 5)).toEqual(['gene_id', 'gene_name', 'requested', 'status', 'reason']);
    expect(manifest.slice(1).map((r) => [r[0], r[3]])).toEqual([
      ['G1', 'processed'],
      ['G2', 'processed'],
      ['G3', 'processed'],
      ['G4', 'processed'],
      ['G5', 'sequence_too_short'],
      ['NOPE', 'not_in_annotation'],
    ]);
    expect(summary.genes).toBe(4);
    const nucleotides = readFileSync(join(out, 'nucleotide_scores.tsv'), 'utf8').trim().split('\n');
    expect(nucleotides).toHaveLength(1 + 221 + 141 + 41 + 271);
    // G2 on '-': position 0 is the gene end (190).
    const g2 = nucleotides.map((l) => l.split('\t')).find((r) => r[0] === 'G2' && r[4] === '0')!;
    expect(g2.slice(2, 6)).toEqual(['chr1', '-', '0', '190']);
    // G1 (+, 20..240): each acceptor score is the motif rule on the real genome, flanks included
    // (position 0 reads bases 18 and 19, outside the gene).
    const chr1 = readFileSync(join(dir, 'g.fa'), 'utf8').split('\n')[1];
    const code = (b: string | undefined) => (b ? 'ACGT'.indexOf(b) + 1 : 0);
    const g1 = nucleotides.map((l) => l.split('\t')).filter((r) => r[0] === 'G1');
    expect(g1).toHaveLength(221);
    for (const r of g1) {
      const p = Number(r[5]);
      const expected = chr1[p - 3] === 'A' && chr1[p - 2] === 'G' ? 0.9 : 0.01 * (code(chr1[p - 1]) + 1);
      expect(Number(r[7])).toBeCloseTo(expected, 6);
    }

    // With every TN kept, the positions table holds every base not a site/call, so the pooled
    // counts and sites can be recomputed from it.
    const positions = readFileSync(join(out, 'splice_positions_enhanced.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'));
    const metrics = JSON.parse(readFileSync(join(out, 'evaluation_metrics.json'), 'utf8'));
    for (const type of ['acceptor', 'donor']) {
      const rows = positions.filter((r) => r[11] === type);
      const count = (t: string) => rows.filter((r) => r[5] === t).length;
      expect(metrics[type]).toMatchObject({ tp: count('TP'), fp: count('FP'), fn: count('FN') });
      expect(metrics[type].sites).toBe(count('TP') + count('FN'));
      expect(metrics[type].pr_auc).toBeGreaterThan(0);
    }
    // G1 (+) has acceptors at 100, 200 and donors at 60, 140; G2 (-) acceptor 150, donor 90; G4 (-) 2+2; G3 none.
    expect(metrics.acceptor.sites).toBe(2 + 1 + 2);
    expect(metrics.donor.sites).toBe(2 + 1 + 2);
    expect(metrics.genes).toBe(4);
    expect(metrics.threshold).toBe(0.5);
    expect(metrics.window).toBe(2);
  });

  it('resumes: a rerun skips finished chunks, redoes a partial one, and writes identical tables', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msai-resume-'));
    fixture(dir);
    const full = join(dir, 'full');
    await run(dir, full);
    const names = ['splice_positions_enhanced.tsv', 'splice_errors.tsv', 'evaluation_metrics.json'];

    const partial = join(dir, 'partial');
    await run(dir, partial);
    // Simulate a run killed in its third chunk: that chunk's record is gone, a stray temp left behind.
    const chunks = join(partial, 'chunks');
    const third = readdirSync(chunks)
      .filter((f) => f.endsWith('.done.json'))
      .sort()[2];
    rmSync(join(chunks, third));
    writeFileSync(join(chunks, `.${third.replace('.done.json', '.positions.tsv')}.metaspliceai-1-abcd.tmp`), 'half a line');
    for (const n of names) rmSync(join(partial, n));

    const again = await run(dir, partial);
    expect(again.summary.skippedChunks).toBe(again.summary.chunks - 1);
    expect(readdirSync(chunks).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const n of names) expect(readFileSync(join(partial, n), 'utf8')).toBe(readFileSync(join(full, n), 'utf8'));
    expect(stable(partial, 'gene_manifest.tsv')).toBe(stable(full, 'gene_manifest.tsv'));

    // Everything done: no prediction at all; --force redoes every chunk.
    const idle = await run(dir, partial);
    expect(idle.summary.skippedChunks).toBe(idle.summary.chunks);
    expect(idle.model.calls).toBe(0);
    const forced = await run(dir, partial, { force: true });
    expect(forced.summary.skippedChunks).toBe(0);
    expect(readFileSync(join(partial, names[0]), 'utf8')).toBe(readFileSync(join(full, names[0]), 'utf8'));

    // Other settings do not reuse chunks made with different ones.
    const changed = await run(dir, partial, { threshold: 0.85 });
    expect(changed.summary.skippedChunks).toBe(0);
    expect(JSON.parse(readFileSync(join(partial, 'evaluation_metrics.json'), 'utf8')).threshold).toBe(0.85);
  });

  it('chunking does not change the results (nor does predicting neighbouring genes together)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msai-chunks-'));
    fixture(dir);
    await run(dir, join(dir, 'a'), { chunkGenes: 1 });
    await run(dir, join(dir, 'b'), { chunkGenes: 50 });
    for (const n of ['splice_positions_enhanced.tsv', 'splice_errors.tsv', 'evaluation_metrics.json']) {
      expect(readFileSync(join(dir, 'b', n), 'utf8')).toBe(readFileSync(join(dir, 'a', n), 'utf8'));
    }
    // G1, G6 (inside it) and G3 (9 bases after it) share one prediction when in one chunk.
    const positions = readFileSync(join(dir, 'b', 'splice_positions_enhanced.tsv'), 'utf8');
    expect(positions).toMatch(/^G6\t/m);
    expect(existsSync(join(dir, 'a', 'chunks', 'chr1-0004.done.json'))).toBe(true);
    expect(existsSync(join(dir, 'b', 'chunks', 'chr1-0002.done.json'))).toBe(false);
  });

  it('shards by contig merge into exactly what one run writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msai-merge-'));
    fixture(dir);
    const opts = { genes: ['G1', 'G2', 'G3', 'G4', 'G5', 'NOPE'], nucleotideScores: true };
    await run(dir, join(dir, 'whole'), opts);
    await run(dir, join(dir, 'chr2'), { ...opts, chromosomes: ['chr2'] });
    await run(dir, join(dir, 'chr1'), { ...opts, chromosomes: ['chr1'] });
    // Shards listed out of contig order still merge in annotation order.
    const merged = await mergeEvaluations([join(dir, 'chr2'), join(dir, 'chr1')], { outputDir: join(dir, 'merged') });
    expect(merged.genes).toBe(4);
    for (const n of ['splice_positions_enhanced.tsv', 'splice_errors.tsv', 'nucleotide_scores.tsv', 'evaluation_metrics.json']) {
      expect(readFileSync(join(dir, 'merged', n), 'utf8')).toBe(readFileSync(join(dir, 'whole', n), 'utf8'));
    }
    // The manifest too, but for the time each gene took.
    expect(stable(join(dir, 'merged'), 'gene_manifest.tsv')).toBe(stable(join(dir, 'whole'), 'gene_manifest.tsv'));
    await run(dir, join(dir, 'other'), { ...opts, chromosomes: ['chr1'], threshold: 0.3 });
    await expect(mergeEvaluations([join(dir, 'chr2'), join(dir, 'other')], { outputDir: join(dir, 'bad') })).rejects.toThrow(/made with other settings/);
    await expect(mergeEvaluations([join(dir, 'nowhere')], { outputDir: join(dir, 'bad') })).rejects.toThrow(/not a finished evaluate run/);
  });
});
