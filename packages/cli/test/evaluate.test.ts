import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModelManager } from '@metaspliceai/core';
import { fastaRegionInput, openFasta, SequenceInference } from '@metaspliceai/genomics';
import { createOpenSpliceAIAdapter } from '@metaspliceai/adapter-openspliceai';
import { MODELS_DIR, SHARED } from '../../../test-support/shared.js';
import { cli } from './helpers.js';

const FASTA = resolve(SHARED, 'data', 'chr10_hg19_test.fa');
const TUBB8 = resolve(SHARED, 'fixtures', 'tubb8_grch37.tsv');
const model = ['--model', 'openspliceai', '--set', 'openspliceai-mane', '--context', '80', '--models-dir', MODELS_DIR, '--threads', '2', '--quiet'];

describe('metaspliceai evaluate (OpenSpliceAI MANE 80 nt on TUBB8, hg19)', () => {
  it('writes the MetaSpliceAI tables; scores are the model’s on the gene’s strand with real flanks', async () => {
    const out = mkdtempSync(join(tmpdir(), 'msai-eval-cli-'));
    const r = await cli([
      'evaluate',
      ...model,
      '--fasta',
      FASTA,
      '--annotation',
      TUBB8,
      '--nucleotide-scores',
      '--output-dir',
      out,
      '--genomic-build',
      'GRCh37',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const manifest = readFileSync(join(out, 'gene_manifest.tsv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(manifest[1].slice(0, 8)).toEqual(['TUBB8', 'TUBB8', 'TUBB8', 'processed', '', expect.any(String), '2637', '6']);
    expect(manifest[1][9]).toBe('openspliceai/openspliceai-mane/80');
    expect(manifest[1][10]).toBe('GRCh37');
    const metrics = JSON.parse(readFileSync(join(out, 'evaluation_metrics.json'), 'utf8'));
    expect(metrics.genes).toBe(1);
    expect(metrics.acceptor.sites).toBe(3);
    expect(metrics.donor.sites).toBe(3);
    expect(metrics.model).toMatchObject({ adapter: 'openspliceai', set: 'openspliceai-mane', context: 80 });
    expect(metrics.model.members).toHaveLength(5);
    expect(metrics.model.members[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const type of ['acceptor', 'donor']) {
      expect(metrics[type].tp + metrics[type].fn).toBe(3);
      expect(metrics[type].top_k_accuracy).toBeGreaterThanOrEqual(0);
      expect(metrics[type].pr_auc).toBeGreaterThan(0);
    }

    // The same numbers as predicting the gene's region on '-' directly.
    const manager = createModelManager({ modelsDir: MODELS_DIR }).register(createOpenSpliceAIAdapter());
    const inference = new SequenceInference({ models: manager, baseModelType: 'openspliceai', setName: 'openspliceai-mane', contextWindow: 80, threads: 2 });
    const input = await fastaRegionInput(await openFasta(FASTA), { chrom: '10', start: 92893, end: 95529 }, { strand: '-' });
    const rows = new Float32Array(input.length * 3);
    for await (const e of inference.predict([input])) if (e.type === 'rows') rows.set(e.probabilities, e.offset * 3);
    await inference.dispose();
    const nucleotides = readFileSync(join(out, 'nucleotide_scores.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'));
    expect(nucleotides).toHaveLength(2637);
    for (const k of [0, 1, 1474, 2636]) {
      const r2 = nucleotides[k];
      expect(Number(r2[4])).toBe(k);
      expect(Number(r2[5])).toBe(95529 - k);
      expect(Number(r2[7])).toBeCloseTo(rows[k * 3 + 1], 6); // acceptor
      expect(Number(r2[6])).toBeCloseTo(rows[k * 3 + 2], 6); // donor
    }
    // The acceptor TP/FN rows sit at the annotated acceptors (gene-relative on '-': 95529 - genomic).
    const positions = readFileSync(join(out, 'splice_positions_enhanced.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'));
    const acceptorTrue = positions.filter((p) => p[11] === 'acceptor' && (p[5] === 'TP' || p[5] === 'FN')).map((p) => Number(p[4]));
    expect(acceptorTrue.sort((a, b) => a - b)).toEqual([95529 - 94852, 95529 - 94665, 95529 - 94054]);
  });

  it('--format parquet: the tables read back with MetaSpliceAI’s columns', async () => {
    const out = mkdtempSync(join(tmpdir(), 'msai-eval-pq-'));
    const r = await cli(['evaluate', ...model, '--fasta', FASTA, '--annotation', TUBB8, '--format', 'parquet', '--output-dir', out]);
    expect(r.code).toBe(0);
    const { parquetReadObjects } = await import('hyparquet');
    const read = async (name: string) => {
      const b = readFileSync(join(out, name));
      return parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) });
    };
    const positions = await read('splice_positions_enhanced.parquet');
    expect(Object.keys(positions[0])).toEqual([
      'gene_id',
      'transcript_id',
      'position',
      'predicted_position',
      'true_position',
      'pred_type',
      'score',
      'strand',
      'donor_score',
      'acceptor_score',
      'neither_score',
      'splice_type',
      'chrom',
      'context_score_m2',
      'context_score_m1',
      'context_score_p1',
      'context_score_p2',
    ]);
    expect(new Set(positions.map((p) => p.pred_type))).toContain('TN');
    const manifest = await read('gene_manifest.parquet');
    expect(manifest).toHaveLength(1);
    expect(manifest[0]).toMatchObject({ gene_id: 'TUBB8', status: 'processed', num_nucleotides: 2637, num_splice_sites: 6 });
    const errors = await read('splice_errors.parquet');
    for (const e of errors) expect(['FP', 'FN']).toContain(e.error_type);
  });

  it('bad arguments are one-line usage errors; a missing annotation names the file', async () => {
    const out = mkdtempSync(join(tmpdir(), 'msai-eval-bad-'));
    const bad = await cli(['evaluate', ...model, '--fasta', FASTA, '--annotation', TUBB8, '--output-dir', out, '--tn-sample', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe('error: --tn-sample takes a factor of TP+FP+FN (e.g. 1.2), all or none, got "lots"');
    const missing = await cli(['evaluate', ...model, '--fasta', FASTA, '--annotation', join(out, 'nope.gtf'), '--output-dir', out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: --annotation .*nope\.gtf: no such file\nhint: /);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const threshold = await cli(['evaluate', ...model, '--fasta', FASTA, '--annotation', TUBB8, '--output-dir', out, '--threshold', '2']);
    expect(threshold.code).toBe(2);
    expect(threshold.stderr.split('\n')[0]).toBe('error: --threshold takes a probability from 0 to 1, got "2"');
    const window = await cli(['evaluate', ...model, '--fasta', FASTA, '--annotation', TUBB8, '--output-dir', out, '--window', '-1']);
    expect(window.stderr.split('\n')[0]).toBe('error: --window takes a whole number of at least 0, got "-1"');
  });
});
