import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { mockModel } from '@metaspliceai/core/testing';
import { InputError } from '@metaspliceai/core';
import {
  annotateVcf,
  type AnnotationRecord,
  BGZF_EOF,
  createBgzfStream,
  openFasta,
  openVcf,
  SPLICEAI_INFO_HEADER,
  VariantScorer,
  type VcfWarning,
} from '@metaspliceai/genomics';
import { removeInfoField, setInfoField } from '../src/io/vcf.js';

const SEQ = (() => {
  let s = '';
  let seed = 3;
  for (let i = 0; i < 1200; i++) s += 'ACGT'[(seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 30];
  return s;
})();
const ROWS: AnnotationRecord[] = [{ name: 'G1', chrom: 'chr7', strand: '+', txStart: 100, txEnd: 1100, exonStarts: [100, 700], exonEnds: [400, 1100] }];

async function setup() {
  const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-vcf-'));
  await fs.writeFile(join(dir, 'g.fa'), `>chr7\n${SEQ}\n`);
  const fasta = await openFasta(join(dir, 'g.fa'));
  const scorer = new VariantScorer({ model: mockModel(40), fasta, annotation: { source: 't', rows: ROWS }, dist: 10 });
  return { dir, scorer };
}

const ref = (pos: number, n = 1) => SEQ.slice(pos - 1, pos - 1 + n);

function sampleVcf(): string {
  return [
    '##fileformat=VCFv4.2',
    '## a free-text note',
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
    '##INFO=<ID=SpliceAI,Number=.,Type=String,Description="an older SpliceAI run">',
    '##contig=<ID=7,length=1200>',
    '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO',
    `7\t500\trs1\t${ref(500)}\tA,C\t50\tPASS\tDP=10`,
    `7\t20\t.\t${ref(20)}\tA\t.\t.\t.`, // outside the gene
    `7\t501\t.\t${ref(501)}\tA\t.\t.\tDP=3;SpliceAI=old`,
    '7\tnotanumber\t.\tA\tC\t.\t.\t.', // malformed POS
    '7\t502\t.\tA', // too few columns
    `7\t503\t.\t${ref(503) === 'A' ? 'C' : 'A'}\tG\t.\t.\t.`, // REF mismatch
    `7\t504\t.\t${ref(504)}\t<DUP>\t.\t.\t.`, // symbolic
    `chr7\t505\t.\t${ref(505, 3).toLowerCase()}\t${ref(505)}\t.\t.\t.`, // deletion, chr prefix, lower-case REF
    `7\t1190\t.\t${ref(1190)}\tT\t.\t.\t.`, // outside the gene (and near the end)
    '',
  ].join('\n');
}

async function run(input: string | Buffer, options: { chunkSize?: number; inputWarnings?: string[] } = {}) {
  const { scorer } = await setup();
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const warnings: VcfWarning[] = [];
  const summary = await annotateVcf({
    scorer,
    input: Readable.from([typeof input === 'string' ? Buffer.from(input, 'latin1') : input]),
    output: out,
    headerLines: ['##metaspliceai_test=1'],
    onWarning: (w) => warnings.push(w),
    onInputWarning: (m) => options.inputWarnings?.push(m),
    chunkSize: options.chunkSize,
  });
  out.end();
  return { text: Buffer.concat(chunks).toString('latin1'), warnings, summary };
}

describe('annotateVcf', () => {
  it('writes every line in order, unchanged but for the SpliceAI INFO field, and says why each unscored record is unscored', async () => {
    const input = sampleVcf();
    const { text, warnings, summary } = await run(input, { chunkSize: 2 });
    const inLines = input.split('\n');
    const outLines = text.split('\n');
    // Header: the old SpliceAI definition goes, ours and the provenance line come before #CHROM.
    expect(outLines.slice(0, 7)).toEqual([inLines[0], inLines[1], inLines[2], inLines[4], SPLICEAI_INFO_HEADER, '##metaspliceai_test=1', inLines[5]]);
    const body = outLines.slice(7);
    const inBody = inLines.slice(6);
    expect(body).toHaveLength(inBody.length);
    body.forEach((line, i) => {
      const original = inBody[i];
      if (line === original) return;
      const a = line.split('\t');
      const b = original.split('\t');
      expect(a.slice(0, 7)).toEqual(b.slice(0, 7));
      expect(a[7]).toMatch(/SpliceAI=/);
    });
    expect(body[0]).toMatch(/\tDP=10;SpliceAI=A\|G1\|[-\d.]+\|[-\d.]+\|[-\d.]+\|[-\d.]+\|-?\d+\|-?\d+\|-?\d+\|-?\d+,C\|G1\|/);
    expect(body[1]).toBe(inBody[1]);
    expect(body[2]).toMatch(/\tDP=3;SpliceAI=A\|G1\|/);
    expect(body[2]).not.toMatch(/old/);
    expect(body[7]).toMatch(/^chr7\t505\t.*\tSpliceAI=[ACGT]\|G1\|/);
    expect(warnings.map((w) => [w.line, w.reason])).toEqual([
      [8, 'outside-genes'],
      [10, 'malformed'],
      [11, 'malformed'],
      [12, 'ref-mismatch'],
      [13, 'no-scorable-alt'],
      [15, 'outside-genes'],
    ]);
    expect(warnings[1].message).toMatch(/line 10: malformed .*POS "notanumber"/);
    expect(warnings[2].message).toMatch(/4 columns, the header has 8/);
    expect(summary).toMatchObject({ records: 9, scored: 3, entries: 4 });
    expect(summary.unscored).toMatchObject({ 'outside-genes': 2, malformed: 2, 'ref-mismatch': 1, 'no-scorable-alt': 1 });
  });

  it('reads gzip and bgzip input, keeps CRLF line endings, and writes bgzip that ends in the EOF block', async () => {
    const plain = await run(sampleVcf());
    expect((await run(gzipSync(sampleVcf()))).text).toBe(plain.text);
    const bgz = await bgzip(sampleVcf());
    expect(bgz.subarray(-28)).toEqual(BGZF_EOF);
    expect((await run(bgz)).text).toBe(plain.text);
    expect(gunzipSync(bgz).toString()).toBe(sampleVcf());
    const big = 'x'.repeat(70_000) + '\n' + 'y'.repeat(150_000);
    const blocks = await bgzip(big);
    expect(blocks.readUInt16LE(16) + 1).toBeLessThan(blocks.length);
    expect(gunzipSync(blocks).toString()).toBe(big);
    const crlf = await run(sampleVcf().replace(/\n/g, '\r\n'));
    expect(crlf.text).toBe(plain.text.replace(/\n/g, '\r\n'));
  });

  it('rejects input without a #CHROM line with an InputError naming the line', async () => {
    const { scorer } = await setup();
    const error = await annotateVcf({
      scorer,
      input: Readable.from([Buffer.from('##fileformat=VCFv4.2\n7\t1\t.\tA\tC\t.\t.\t.\n')]),
      inputName: 'in.vcf',
      output: new PassThrough(),
    }).catch((e) => e);
    expect(InputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/in.vcf:2: a record before the #CHROM header line/);
    const empty = await openVcf(Readable.from([Buffer.from('')]), { name: 'e.vcf' }).catch((e) => e);
    expect(empty.message).toMatch(/e.vcf: no #CHROM header line/);
  });
});

describe('annotateVcf and input problems (issue 16)', () => {
  const head = ['##fileformat=VCFv4.2', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO'];
  const other = (pos: number) => (ref(pos) === 'A' ? 'C' : 'A');

  it('replaces every earlier SpliceAI= of a scored record, removes it from an unscored one with a warning, and writes no empty entries', async () => {
    const lines = [
      `7\t500\t.\t${ref(500)}\t${other(500)}\t.\t.\tSpliceAI=stale1;A=1;SpliceAI=stale2`,
      `7\t501\t.\t${ref(501)}\t${other(501)}\t.\t.\tA=1;`,
      `7\t20\t.\t${ref(20)}\tA\t.\t.\tSpliceAI=old`, // outside the gene: unscored
      `7\t21\t.\t${ref(21)}\tA\t.\t.\tB=2;;SpliceAI=old;C`,
      `7\t22\t.\t${ref(22)}\tA\t.\t.\tB=2`, // unscored, nothing stale: unchanged
    ];
    const { text, warnings } = await run([...head, ...lines, ''].join('\n'));
    const body = text.split('\n').slice(4, -1);
    expect(body[0]).toMatch(new RegExp(`\\tSpliceAI=${other(500)}\\|G1\\|[^;\\t]*;A=1$`));
    expect(body[0]).not.toMatch(/stale/);
    expect(body[1]).toMatch(new RegExp(`\\tA=1;SpliceAI=${other(501)}\\|G1\\|[^;]*$`));
    expect(body[2]).toBe(lines[2].replace('SpliceAI=old', '.'));
    expect(body[3]).toBe(lines[3].replace('B=2;;SpliceAI=old;C', 'B=2;C'));
    expect(body[4]).toBe(lines[4]);
    // One warning per unscored record, saying the stale entry went.
    expect(warnings.map((w) => [w.line, w.reason])).toEqual([
      [5, 'outside-genes'],
      [6, 'outside-genes'],
      [7, 'outside-genes'],
    ]);
    expect(warnings[0].message).toMatch(/line 5: 7:20 .*not scored \(outside genes\).*; its earlier SpliceAI= entry was removed/);
    expect(warnings[2].message).not.toMatch(/SpliceAI=/);
  });

  it('does not score IUPAC ALTs (SpliceAI would read R as C) and warns once per record', async () => {
    const base = ref(500);
    const lines = [`7\t500\t.\t${base}\tR\t.\t.\t.`, `7\t500\t.\t${base}\t${other(500)},Y\t.\t.\t.`, `7\t600\t.\t${ref(600)}\t${other(600)}\t.\t.\t.`];
    const { text, warnings, summary } = await run([...head, ...lines, ''].join('\n'));
    const body = text.split('\n').slice(4, -1);
    expect(body[0]).toBe(lines[0]);
    expect(body[1]).toMatch(new RegExp(`\\tSpliceAI=${other(500)}\\|G1\\|[^,]*$`));
    expect(body[2]).toMatch(/SpliceAI=/);
    expect(warnings.map((w) => [w.line, w.reason])).toEqual([
      [3, 'no-scorable-alt'],
      [4, 'ambiguous-alt'],
    ]);
    expect(warnings[0].message).toMatch(/not scored \(no scorable ALT\): no ALT can be scored \(R\); IUPAC codes/);
    expect(warnings[1].message).toMatch(/ALT Y not scored \(IUPAC code/);
    expect(summary).toMatchObject({ records: 3, scored: 2 });
  });

  it('says "invalid position" for POS 0 and POS past the contig end, naming the contig length', async () => {
    const lines = [`7\t0\t.\tA\tC\t.\t.\t.`, `7\t1300\t.\tA\tC\t.\t.\t.`, `7\t1200\t.\t${ref(1200)}AA\tC\t.\t.\t.`];
    const { warnings, summary } = await run([...head, ...lines, ''].join('\n'));
    expect(warnings.map((w) => w.reason)).toEqual(['invalid-position', 'invalid-position', 'invalid-position']);
    expect(warnings[0].message).toMatch(/not scored \(invalid position\): POS 0 is not a position/);
    expect(warnings[1].message).toMatch(/POS 1300 is past the end of chr7 \(1200 nt\)/);
    expect(warnings[2].message).toMatch(/REF ends at 1202, which is past the end of chr7 \(1200 nt\)/);
    expect(summary.unscored['invalid-position']).toBe(3);
  });

  it('warns, naming the input, when a bgzip VCF has no end-of-file block (truncated at a block boundary)', async () => {
    const whole = await bgzip(sampleVcf());
    const warned: string[] = [];
    await run(whole, { inputWarnings: warned });
    expect(warned).toEqual([]);
    const cut = whole.subarray(0, whole.length - BGZF_EOF.length);
    const { summary } = await run(cut, { inputWarnings: warned });
    expect(summary.records).toBe(9);
    expect(warned).toEqual([expect.stringMatching(/^stdin: the bgzip file has no end-of-file block, so it may be truncated/)]);
    // Plain gzip has no such block: no warning.
    const plain: string[] = [];
    await run(gzipSync(sampleVcf()), { inputWarnings: plain });
    expect(plain).toEqual([]);
  });
});

describe('setInfoField', () => {
  it('replaces ".", appends after ";", and replaces an earlier value, touching nothing else', () => {
    expect(setInfoField('1\t2\t.\tA\tC\t.\t.\t.', 'K', 'v')).toBe('1\t2\t.\tA\tC\t.\t.\tK=v');
    expect(setInfoField('1\t2\t.\tA\tC\t.\t.\tX;K=old;Y=1\tGT\t0/1', 'K', 'v')).toBe('1\t2\t.\tA\tC\t.\t.\tX;K=v;Y=1\tGT\t0/1');
    expect(setInfoField('1\t2\t.\tA\tC\t.\t.\tX', 'K', 'v')).toBe('1\t2\t.\tA\tC\t.\t.\tX;K=v');
  });

  it('drops every earlier entry of the key and empty entries; removeInfoField leaves "." when nothing remains', () => {
    expect(setInfoField('1\t2\t.\tA\tC\t.\t.\tK=a;X;K=b', 'K', 'v')).toBe('1\t2\t.\tA\tC\t.\t.\tK=v;X');
    expect(setInfoField('1\t2\t.\tA\tC\t.\t.\tA=1;', 'K', 'v')).toBe('1\t2\t.\tA\tC\t.\t.\tA=1;K=v');
    expect(removeInfoField('1\t2\t.\tA\tC\t.\t.\tK=a;K', 'K')).toEqual({ text: '1\t2\t.\tA\tC\t.\t.\t.', removed: true });
    expect(removeInfoField('1\t2\t.\tA\tC\t.\t.\tA=1;;B', 'K')).toEqual({ text: '1\t2\t.\tA\tC\t.\t.\tA=1;;B', removed: false });
  });
});

async function bgzip(text: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  await pipeline(Readable.from([Buffer.from(text)]), createBgzfStream(), sink);
  return Buffer.concat(chunks);
}
