/**
 * Inputs that used to give wrong output silently or confusing messages (issue 16, inputs): a typed
 * sequence with non-bases, --genes with no gene on the FASTA's contigs, an empty annotation, POS 0
 * or past a contig's end, a stale SpliceAI= entry, IUPAC ALTs, a truncated bgzip VCF.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PassThrough, Readable } from 'node:stream';
import { InputError } from '@metaspliceai/core';
import { BGZF_EOF, compileAnnotationTable, createBgzfStream, parseSequenceText, transcriptToRecord } from '@metaspliceai/genomics';
import { MODELS_DIR, SHARED } from '../../../test-support/shared.js';
import { cli, MOCK_ADAPTER } from './helpers.js';

async function tree(files: Record<string, string | Buffer>): Promise<string> {
  const root = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-inputs-'));
  for (const [p, text] of Object.entries(files)) {
    await fs.mkdir(dirname(join(root, p)), { recursive: true });
    await fs.writeFile(join(root, p), text);
  }
  return root;
}

async function mockModels(): Promise<string[]> {
  const root = await tree({ 'alpha/a_80.mock': JSON.stringify({ context: 80 }) });
  return ['--model', 'mock', '--models-dir', root, '--adapter', MOCK_ADAPTER];
}

const SEQ = (() => {
  let s = '';
  let seed = 7;
  for (let i = 0; i < 2000; i++) s += 'ACGT'[(seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 30];
  return s;
})();

describe('predict --sequence', () => {
  it('reads U as T with a note, and refuses digits, ">" and inner spaces naming the character and its position', async () => {
    const args = await mockModels();
    const rna = await cli(['predict', ...args, '--sequence', 'ACGUACGU', '--format', 'tsv']);
    const dna = await cli(['predict', ...args, '--sequence', 'ACGTACGT', '--format', 'tsv']);
    expect(rna.code).toBe(0);
    expect(rna.stdout).toBe(dna.stdout);
    expect(rna.stderr).toMatch(/note: --sequence: 2 U read as T/);
    for (const [seq, message] of [
      ['ACG1T', /--sequence: "1" at position 4 is not a base/],
      ['>seq ACGT', /--sequence: ">" at position 1 is not a base/],
      ['ACGT ACGT', /--sequence: a space at position 5 is not a base/],
      ['AC-GT', /--sequence: "-" at position 3 is not a base/],
    ] as const) {
      const r = await cli(['predict', ...args, '--sequence', seq]);
      expect(r.code, seq).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.stdout).toBe('');
    }
    // N and IUPAC codes are accepted and read as N: the rows equal those of N.
    const iupac = await cli(['predict', ...args, '--sequence', 'ACRYN', '--format', 'tsv']);
    const ns = await cli(['predict', ...args, '--sequence', 'ACNNN', '--format', 'tsv']);
    expect(iupac.code).toBe(0);
    expect(iupac.stdout).toBe(ns.stdout);
  });

  it('parseSequenceText trims the ends and counts what it read', () => {
    expect(parseSequenceText('  acgu\n')).toEqual({ sequence: 'acgt', uracils: 1, ambiguous: 0 });
    expect(parseSequenceText('NRY')).toMatchObject({ ambiguous: 3 });
    expect(() => parseSequenceText('AC\nGT')).toThrow(/a line break at position 3/);
  });
});

describe('predict --genes and annotations build', () => {
  const GFF3 = (chrom: string) =>
    [
      '##gff-version 3',
      `${chrom}\tT\tgene\t100\t900\t.\t+\t.\tID=g1;Name=G1`,
      `${chrom}\tT\tmRNA\t100\t900\t.\t+\t.\tID=t1;Parent=g1`,
      `${chrom}\tT\texon\t100\t300\t.\t+\t.\tParent=t1`,
      `${chrom}\tT\texon\t600\t900\t.\t+\t.\tParent=t1`,
      '',
    ].join('\n');

  it('refuses --genes when no gene lies on a contig of the FASTA, naming the contigs of each', async () => {
    const root = await tree({ 'g.fa': `>chr7\n${SEQ}\n`, 'other.gff3': GFF3('chr12'), 'empty.gff3': '##gff-version 3\n', 'good.gff3': GFF3('7') });
    const args = await mockModels();
    const r = await cli(['predict', ...args, '--fasta', 'g.fa', '--genes', 'other.gff3'], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/none of the 1 genes of other.gff3 lies on a contig of g.fa: the genes are on chr12; the FASTA has chr7/);
    expect(r.stdout).toBe('');
    const empty = await cli(['predict', ...args, '--fasta', 'g.fa', '--genes', 'empty.gff3'], { cwd: root });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/empty.gff3: no genes read/);
    const good = await cli(['predict', ...args, '--fasta', 'g.fa', '--genes', 'good.gff3', '--quiet'], { cwd: root });
    expect(good.code).toBe(0);
    expect(good.stdout.trim().split('\n')).toHaveLength(802);
  });

  it('annotations build on an empty file exits 1 with a message naming it', async () => {
    const root = await tree({ 'empty.gtf': '', 'g.gff3': GFF3('chr1') });
    const r = await cli(['annotations', 'build', 'empty.gtf'], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: empty.gtf: no transcripts to write: no genes were read/m);
    const filtered = await cli(['annotations', 'build', 'g.gff3', '--biotype', 'lncRNA'], { cwd: root });
    expect(filtered.code).toBe(1);
    expect(filtered.stderr).toMatch(/all 1 genes are of other biotypes than lncRNA/);
  });

  it('compiling a transcript without a strand is a typed InputError', () => {
    const t = { id: 't1', geneId: 'g1', geneName: 'G1', chrom: 'chr1', start: 1, end: 10, strand: '.', exons: [{ start: 1, end: 10 }], tags: [] };
    const error = (() => {
      try {
        transcriptToRecord(t as never);
      } catch (e) {
        return e;
      }
    })();
    expect(InputError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/transcript t1 \(gene G1, chr1:1-10\) has no \+ or - strand/);
    expect(compileAnnotationTable({ source: 'x', format: 'gtf', genes: [], chroms: [] }).rows).toEqual([]);
  });
});

describe('score: positions, stale entries, truncated bgzip (real OpenSpliceAI 80 nt weights)', () => {
  const FASTA = join(SHARED, 'data/chr10_hg19_test.fa');
  const ANNOTATION = join(SHARED, 'fixtures/tubb8_grch37.tsv');
  const MODEL = ['--model', 'openspliceai', '--set', 'openspliceai-mane', '--context', '80', '--models-dir', MODELS_DIR, '--no-checksums'];
  const CHR10 = readFileSync(FASTA, 'latin1').split('\n')[1];
  const ref = (pos: number) => CHR10[pos - 1];
  const other = (base: string) => (base.toUpperCase() === 'A' ? 'C' : 'A');
  const HEADER = ['##fileformat=VCFv4.2', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO'];
  const ok = `10\t94555\t.\t${ref(94555)}\t${other(ref(94555))}\t.\t.\tSpliceAI=stale;A=1;;SpliceAI=stale2`;

  async function score(vcf: string | Buffer, name: string) {
    const root = await tree({ [name]: vcf });
    await fs.copyFile(FASTA, join(root, 'ref.fa'));
    const r = await cli(['score', '-I', name, '-O', 'out.vcf', '-R', 'ref.fa', '-A', ANNOTATION, ...MODEL], { cwd: root });
    const body = (await fs.readFile(join(root, 'out.vcf'), 'latin1').catch(() => '')).split('\n').filter((l) => l && !l.startsWith('#'));
    return { ...r, body };
  }

  it('POS 0 and POS past the contig end are "invalid position" (exit 3), naming the contig length; stale SpliceAI= entries go', async () => {
    const r = await score([...HEADER, ok, '10\t0\t.\tA\tC\t.\t.\tSpliceAI=old', `10\t${CHR10.length + 5}\t.\tA\tC\t.\t.\t.`, ''].join('\n'), 'in.vcf');
    expect(r.code).toBe(3);
    expect(r.body[0]).toMatch(/\tSpliceAI=[ACGT]\|TUBB8\|[^;]*;A=1$/);
    expect(r.body[1]).toBe('10\t0\t.\tA\tC\t.\t.\t.');
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/line 4: 10:0 A>C not scored \(invalid position\): POS 0 is not a position.*; its earlier SpliceAI= entry was removed/);
    expect(warnings[1]).toMatch(
      new RegExp(`line 5: .* not scored \\(invalid position\\): POS ${CHR10.length + 5} is past the end of chr10 \\(${CHR10.length} nt\\)`),
    );
    expect(r.stderr).toMatch(/2 not scored: 2 invalid position/);
  });

  it('a reference with duplicate record names or a stale .fai is one clear error (exit 1, hint, no stack trace)', async () => {
    const vcf = [...HEADER, ok, ''].join('\n');
    const root = await tree({ 'in.vcf': vcf, 'dup.fa': `>chr10\nACGT\n>chr10\nACGT\n` });
    const dup = await cli(['score', '-I', 'in.vcf', '-O', 'out.vcf', '-R', 'dup.fa', '-A', ANNOTATION, ...MODEL], { cwd: root });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/dup.fa: FASTA records share a name: chr10 \(lines 1, 3\)/);
    expect(dup.stderr).not.toMatch(/\n\s+at /);
    // The test genome with the index of another layout (50 bases a line): refused, not read at the wrong bytes.
    await fs.copyFile(FASTA, join(root, 'ref.fa'));
    const fai = readFileSync(`${FASTA}.fai`, 'latin1').split('\t');
    await fs.writeFile(join(root, 'ref.fa.fai'), [...fai.slice(0, 3), '50', '51\n'].join('\t'));
    const stale = await cli(['score', '-I', 'in.vcf', '-O', 'out.vcf', '-R', 'ref.fa', '-A', ANNOTATION, ...MODEL], { cwd: root });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/error: the index .*ref.fa.fai does not match .*ref.fa: /);
    expect(stale.stderr).toMatch(/hint: rebuild it with: samtools faidx .*ref.fa/);
    expect(stale.stderr).not.toMatch(/RangeError|unexpected|\n\s+at /);
  });

  it('a bgzip VCF without its end-of-file block is scored with a warning naming it', async () => {
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => chunks.push(c));
    await pipeline(Readable.from([Buffer.from([...HEADER, ok, ''].join('\n'))]), createBgzfStream(), sink);
    const whole = Buffer.concat(chunks);
    expect(whole.subarray(-28)).toEqual(BGZF_EOF);
    const good = await score(whole, 'in.vcf.gz');
    expect(good.code).toBe(0);
    expect(good.stderr).not.toMatch(/warning/);
    const cut = await score(whole.subarray(0, whole.length - 28), 'cut.vcf.gz');
    expect(cut.code).toBe(0);
    expect(cut.body).toEqual(good.body);
    expect(cut.stderr).toMatch(/^warning: cut.vcf.gz: the bgzip file has no end-of-file block, so it may be truncated/m);
  });
});
