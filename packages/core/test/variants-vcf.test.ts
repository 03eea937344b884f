import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { mockModel } from '../src/testing/index.js';
import {
  annotateVcf,
  type AnnotationRecord,
  BGZF_EOF,
  createBgzfStream,
  InputError,
  openFasta,
  openVcf,
  setInfoField,
  SPLICEAI_INFO_HEADER,
  VariantScorer,
  type VcfWarning,
} from '../src/index.js';

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

async function run(input: string | Buffer, options: { chunkSize?: number } = {}) {
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
    const error = await annotateVcf({ scorer, input: Readable.from([Buffer.from('##fileformat=VCFv4.2\n7\t1\t.\tA\tC\t.\t.\t.\n')]), inputName: 'in.vcf', output: new PassThrough() }).catch((e) => e);
    expect(InputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/in.vcf:2: a record before the #CHROM header line/);
    const empty = await openVcf(Readable.from([Buffer.from('')]), { name: 'e.vcf' }).catch((e) => e);
    expect(empty.message).toMatch(/e.vcf: no #CHROM header line/);
  });
});

describe('setInfoField', () => {
  it('replaces ".", appends after ";", and replaces an earlier value, touching nothing else', () => {
    expect(setInfoField('1\t2\t.\tA\tC\t.\t.\t.', 'K', 'v')).toBe('1\t2\t.\tA\tC\t.\t.\tK=v');
    expect(setInfoField('1\t2\t.\tA\tC\t.\t.\tX;K=old;Y=1\tGT\t0/1', 'K', 'v')).toBe('1\t2\t.\tA\tC\t.\t.\tX;K=v;Y=1\tGT\t0/1');
    expect(setInfoField('1\t2\t.\tA\tC\t.\t.\tX', 'K', 'v')).toBe('1\t2\t.\tA\tC\t.\t.\tX;K=v');
  });
});

async function bgzip(text: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  await pipeline(Readable.from([Buffer.from(text)]), createBgzfStream(), sink);
  return Buffer.concat(chunks);
}
