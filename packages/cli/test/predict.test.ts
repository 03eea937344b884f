import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encodeSequence, reverseComplementCodes } from '@metaspliceai/core';
import { openFasta } from '@metaspliceai/genomics';
import { mockScore } from '@metaspliceai/core/testing';
import { runCli } from '../src/index.js';
import { renderProgressLine } from '../src/output/progress.js';
import { SHARED } from '../../../test-support/shared.js';
import { bin, cli, MOCK_ADAPTER } from './helpers.js';

const FA = join(SHARED, 'data/chr10_hg19_test.fa');
const CONTEXT = 80;

async function tree(files: Record<string, string>): Promise<string> {
  const root = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-predict-'));
  for (const [p, text] of Object.entries(files)) {
    await fs.mkdir(dirname(join(root, p)), { recursive: true });
    await fs.writeFile(join(root, p), text);
  }
  return root;
}

/** A models folder with one mock set of two members (an ensemble of identical models). */
async function mockModels(): Promise<string[]> {
  const root = await tree({ 'alpha/a_80.mock': JSON.stringify({ context: CONTEXT }), 'alpha/b_80.mock': JSON.stringify({ context: CONTEXT }) });
  return ['--model', 'mock', '--models-dir', root, '--adapter', MOCK_ADAPTER];
}

function expectRows(rows: number[][], codes: Uint8Array, from = 0) {
  rows.forEach((row, k) => {
    const s = mockScore(codes, from + k, CONTEXT);
    for (let c = 0; c < 3; c++) expect(Math.abs(row[c] - s[c])).toBeLessThan(1e-6);
  });
}

function parseTsv(text: string) {
  const [header, ...lines] = text.trimEnd().split('\n');
  expect(header).toBe('name\tposition\tneither\tacceptor\tdonor');
  return lines.map((l) => {
    const [name, position, ...p] = l.split('\t');
    return { name, position: Number(position), p: p.map(Number) };
  });
}

const GFF3 = [
  '##gff-version 3',
  'chr10\tRefSeq\tgene\t92893\t95529\t.\t-\t.\tID=gene-TUBB8;Name=TUBB8',
  'chr10\tRefSeq\tmRNA\t92893\t95529\t.\t-\t.\tID=rna-1;Parent=gene-TUBB8',
  'chr10\tRefSeq\texon\t92893\t94054\t.\t-\t.\tParent=rna-1',
  'chr10\tRefSeq\texon\t94555\t94665\t.\t-\t.\tParent=rna-1',
  'chr10\tRefSeq\texon\t94744\t94852\t.\t-\t.\tParent=rna-1',
  'chr10\tRefSeq\texon\t95122\t95529\t.\t-\t.\tParent=rna-1',
  'chr10\tRefSeq\tgene\t1000\t1100\t.\t+\t.\tID=gene-EARLY;Name=EARLY',
  'chr10\tRefSeq\tmRNA\t1000\t1100\t.\t+\t.\tID=rna-2;Parent=gene-EARLY',
  'chr10\tRefSeq\texon\t1000\t1100\t.\t+\t.\tParent=rna-2',
  'chr3\tRefSeq\tgene\t10\t20\t.\t+\t.\tID=gene-ELSEWHERE;Name=ELSEWHERE',
  'chr3\tRefSeq\tmRNA\t10\t20\t.\t+\t.\tID=rna-3;Parent=gene-ELSEWHERE',
  'chr3\tRefSeq\texon\t10\t20\t.\t+\t.\tParent=rna-3',
  '',
].join('\n');

describe('predict (mock adapter)', () => {
  it('predicts --sequence as JSON Lines: upper-cased, IUPAC as N, reference windowing', async () => {
    const args = await mockModels();
    const seq = 'acgtRYNNacgtGGGAAATTTCCCaaaggg'.repeat(4);
    const r = await cli(['predict', ...args, '--sequence', seq, '--format', 'json', '--name', 'mine']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^model: mock\/alpha\/80 \(2 members, js on cpu\); licence: CC0-1.0$/m);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const obj = JSON.parse(lines[0]);
    expect(Object.keys(obj)).toEqual(['name', 'strand', 'length', 'neither', 'acceptor', 'donor']);
    expect([obj.name, obj.strand, obj.length]).toEqual(['mine', '+', seq.length]);
    expectRows(
      obj.neither.map((n: number, i: number) => [n, obj.acceptor[i], obj.donor[i]]),
      encodeSequence(seq),
    );
  });

  for (const n of [5001, 5000]) {
    it(`predicts a ${n}-nt record from stdin as TSV, in windows of 5000`, async () => {
      const args = await mockModels();
      let seq = '';
      for (let i = 0; i < n; i++) seq += 'ACGTTGCAAG'[(i * 7 + (i >> 3)) % 10];
      const fasta = `>long\n${seq.match(/.{1,60}/g)!.join('\n')}\n>tiny\nAG\n`;
      const r = await cli(['predict', ...args, '--tile-size', '5000', '--batch-size', '1'], { stdin: fasta });
      expect(r.code).toBe(0);
      const rows = parseTsv(r.stdout);
      expect(rows).toHaveLength(n + 2);
      expect(rows[n - 1]).toMatchObject({ name: 'long', position: n });
      expect(rows[n]).toMatchObject({ name: 'tiny', position: 1 });
      expectRows(
        rows.slice(0, n).map((r) => r.p),
        encodeSequence(seq),
      );
    });
  }

  it("predicts a region with real flanks from --fasta on '-', rows 5'->3' with descending genome positions", async () => {
    const args = await mockModels();
    const r = await cli(['predict', ...args, '--fasta', FA, '--region', '10:94,531-94,580', '--strand', '-']);
    expect(r.code).toBe(0);
    const rows = parseTsv(r.stdout);
    expect(rows.map((x) => x.position)).toEqual(Array.from({ length: 50 }, (_, k) => 94_580 - k));
    expect(rows[0].name).toBe('chr10:94531-94580');
    const fasta = await openFasta(FA);
    const rc = reverseComplementCodes(encodeSequence(await fasta.fetch('chr10', 0, 110_000)));
    expectRows(
      rows.map((x) => x.p),
      rc,
      110_000 - 94_580,
    );
  });

  it('predicts every gene of a GFF3 on its own strand, skipping contigs the FASTA lacks with a warning', async () => {
    const args = await mockModels();
    const dir = await tree({ 'genes.gff3': GFF3 });
    const r = await cli(['predict', ...args, '--fasta', FA, '--genes', join(dir, 'genes.gff3'), '--format', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: gene ELSEWHERE skipped: no contig chr3/);
    const objs = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(objs.map((o) => [o.name, o.strand, o.length, o.chrom, o.start, o.end])).toEqual([
      ['TUBB8', '-', 2637, 'chr10', 92_893, 95_529],
      ['EARLY', '+', 101, 'chr10', 1000, 1100],
    ]);
    const fasta = await openFasta(FA);
    const contig = encodeSequence(await fasta.fetch('chr10', 0, 110_000));
    const t = objs[0];
    expectRows(
      t.neither.map((n: number, i: number) => [n, t.acceptor[i], t.donor[i]]),
      reverseComplementCodes(contig),
      110_000 - 95_529,
    );
  });

  it('writes BED and bedGraph, to a file with --output', async () => {
    const args = await mockModels();
    const dir = await tree({});
    const seq = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    // the mock's acceptor is half the share of A around a position: at most 0.5 * 81/81
    const bed = await cli(['predict', ...args, '--sequence', seq, '--format', 'bed', '--threshold', '0.45', '--output', join(dir, 'sites.bed')]);
    expect(bed.code).toBe(0);
    expect(bed.stdout).toBe('');
    const lines = (await fs.readFile(join(dir, 'sites.bed'), 'utf8')).trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^sequence\t\d+\t\d+\tsequence_Acceptor\t0\.\d{6}\t\+$/);
    const graph = await cli(['predict', ...args, '--sequence', seq, '--format', 'bedgraph']);
    const tracks = graph.stdout.split('\n').filter((l) => l.startsWith('track'));
    expect(tracks).toEqual([expect.stringContaining('name="alpha-80 acceptor"'), expect.stringContaining('name="alpha-80 donor"')]);
    expect(graph.stdout).toMatch(/^sequence\t0\t1\t0\.2531$/m);
  });

  it('predicts every record of --fasta, several sequences packed together', async () => {
    const args = await mockModels();
    const r = await cli(['predict', ...args, '--fasta', join(SHARED, 'fixtures/sequences.fa'), '--format', 'json']);
    expect(r.code).toBe(0);
    const objs = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(objs.map((o) => [o.name, o.length])).toEqual([
      ['tubb8_window', 3000],
      ['random1200_seed7', 1200],
      ['short50', 50],
    ]);
    expect(objs[2]).not.toHaveProperty('chrom');
  });

  it('refuses bad usage with exit 2 and one line', async () => {
    const args = await mockModels();
    const cases: [string[], RegExp][] = [
      [['--region', 'chr10:1-5'], /--region reads its bases from a genome: give --fasta too/],
      [['--sequence', 'ACGT', '--strand', 'x'], /--strand takes \+ or -/],
      [['--sequence', 'ACGT', '--format', 'xml'], /--format takes tsv, bed, bedgraph, json/],
      [['--sequence', 'ACGT', '--threshold', '2'], /--threshold takes a probability/],
      [['--fasta', FA, '--region', 'chr10:9-3'], /ends before it starts/],
      [['--fasta', FA, '--genes', 'x.gff3', '--strand', '-'], /leave out --strand/],
    ];
    for (const [extra, message] of cases) {
      const r = await cli(['predict', ...args, ...extra]);
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const missing = await cli(['predict', ...args, '--fasta', FA, '--region', 'chr7:1-10']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no contig chr7/);
    const noModel = await cli(['predict', '--model', 'mock', '--context', '400', '--models-dir', args[3], '--adapter', MOCK_ADAPTER, '--sequence', 'ACGT']);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toMatch(/^error: no mock model for context 400/);
  });

  it('draws a progress bar only on a terminal, and not with --quiet', async () => {
    const args = await mockModels();
    const run = async (extra: string[]) => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const stdin = new PassThrough();
      stdin.end('');
      const err: Buffer[] = [];
      stdout.resume();
      stderr.on('data', (c: Buffer) => err.push(c));
      const code = await runCli(['predict', ...args, '--sequence', 'ACGT'.repeat(3000), ...extra], {
        stdout,
        stderr,
        stdin,
        cwd: process.cwd(),
        env: process.env,
        stderrIsTTY: true,
      });
      return { code, stderr: Buffer.concat(err).toString() };
    };
    const tty = await run([]);
    expect(tty.code).toBe(0);
    expect(tty.stderr).toMatch(/predict: 12,000 nt in [\d.]+s \([\d,]+ nt\/s\)\n$/);
    const quiet = await run(['--quiet']);
    expect(quiet.stderr).toBe('');
    const piped = await cli(['predict', ...args, '--sequence', 'ACGT']);
    expect(piped.stderr).not.toMatch(/nt\/s/);
    expect(renderProgressLine({ label: 'predict', unit: 'nt', done: 55_000, total: 110_000, seconds: 5, width: 100 })).toBe(
      'predict [####################....................]  50%  55,000/110,000 nt  11,000 nt/s  ETA 5.0s',
    );
    expect(renderProgressLine({ label: 'score', unit: 'variants', done: 42, seconds: 2, width: 80 })).toBe('score  42 variants  21 variants/s');
  });

  it('runs as the built bin on FASTA from stdin', async () => {
    const args = await mockModels();
    const r = await bin(['predict', ...args, '--format', 'json', '--quiet'], { stdin: '>one\nACGTACGT\n>two\nGGGG\n' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).name),
    ).toEqual(['one', 'two']);
  });
});
