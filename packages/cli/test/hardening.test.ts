/**
 * Broken and odd inputs to `score` and `predict`, with real weights (the fast OpenSpliceAI 80 nt
 * set): malformed VCF lines, wrong REF, unknown contigs, `chr` prefix mismatches, IUPAC codes,
 * a 1 MB line, CRLF files, gzip that is not bgzip, an empty VCF, empty FASTA records. Every record
 * comes back in order, each skipped one gets exactly one warning, the exit code follows the
 * documented rules, and stderr never shows a stack trace.
 */
import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODELS_DIR, SHARED } from '../../../test-support/shared.js';
import { cli, type CliResult } from './helpers.js';

const FASTA = join(SHARED, 'data/chr10_hg19_test.fa');
const ANNOTATION = join(SHARED, 'fixtures/tubb8_grch37.tsv');
const MODEL = ['--model', 'openspliceai', '--set', 'openspliceai-mane', '--context', '80', '--models-dir', MODELS_DIR];
const SEQ = readFileSync(FASTA, 'latin1').split('\n')[1];
const ref = (pos: number, n = 1) => SEQ.slice(pos - 1, pos - 1 + n);
const other = (base: string) => (base.toUpperCase() === 'A' ? 'C' : 'A');

/** A stack frame line, as Node prints them. */
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-hardening-'));
  // A copy, so the test controls the index: no .fai next to it (built in memory).
  await fs.copyFile(FASTA, join(dir, 'ref.fa'));
});

/** The header lines and one record per case, each with the reason it is (or is not) scored. */
const HEADER = ['##fileformat=VCFv4.2', '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO'];
const RECORDS: { line: string; warning?: RegExp }[] = [
  { line: `10\t94555\tplain\t${ref(94555)}\t${other(ref(94555))}\t.\t.\tDP=3` },
  { line: `chr10\t94556\tchr-prefix\t${ref(94556)}\t${other(ref(94556))}\t.\t.\t.` },
  { line: `10\t94557\ttoo-few-columns\t${ref(94557)}`, warning: /malformed record written unchanged: 4 columns, the header has 8/ },
  { line: `10\tabc\tpos-not-a-number\tA\tC\t.\t.\t.`, warning: /malformed record written unchanged: POS "abc" is not a whole number/ },
  { line: `10\t94558\tbad-ref-chars\tA!\tC\t.\t.\t.`, warning: /not scored \(REF mismatch\)/ },
  { line: `10\t94559\twrong-ref\t${other(ref(94559))}\tG\t.\t.\t.`, warning: /not scored \(REF mismatch\)/ },
  { line: `chrUn_gl000220\t1000\tunknown-contig\tA\tC\t.\t.\t.`, warning: /not scored \(outside genes\)/ },
  // SpliceAI would score C>R as C>C (R's byte mod 5): an IUPAC ALT is written back unscored, with a warning.
  { line: `10\t94560\tiupac-alt\t${ref(94560)}\tR\t.\t.\t.`, warning: /not scored \(no scorable ALT\): no ALT can be scored \(R\); IUPAC codes/ },
  { line: `10\t94561\tiupac-ref\tR\tA\t.\t.\t.`, warning: /not scored \(REF mismatch\)/ },
  { line: `10\t94562\tlong-info\t${ref(94562)}\t${other(ref(94562))}\t.\t.\tDP=1;NOTE=${'x'.repeat(1 << 20)}` },
  { line: `10\t94563\tsymbolic\t${ref(94563)}\t<DEL>\t.\t.\t.`, warning: /not scored \(no scorable ALT\)/ },
  { line: `10\t94564\tlast\t${ref(94564)}\t${other(ref(94564))}\t.\t.\t.` },
];
const vcfText = (eol = '\n') => [...HEADER, ...RECORDS.map((r) => r.line), ''].join(eol);

async function score(input: string | Buffer, name: string, extra: string[] = []): Promise<CliResult & { out: string }> {
  const file = join(dir, name);
  await fs.writeFile(file, input);
  const output = join(dir, `${name}.out.vcf`);
  const r = await cli(['score', '-I', file, '-O', output, '-R', join(dir, 'ref.fa'), '-A', ANNOTATION, '--no-checksums', ...MODEL, ...extra], { cwd: dir });
  const out = await fs.readFile(output, 'latin1').catch(() => '');
  return { ...r, out };
}

/** Output body lines (after the #CHROM line), endings kept. */
const bodyOf = (text: string) => {
  const lines = text.split(/(?<=\n)/);
  return lines.slice(lines.findIndex((l) => l.startsWith('#CHROM')) + 1);
};
const fields = (line: string) => line.replace(/\r?\n$/, '').split('\t');

describe('score: broken records are kept, warned about once each, and never crash', () => {
  let plain: Awaited<ReturnType<typeof score>>;
  beforeAll(async () => {
    plain = await score(vcfText(), 'in.vcf');
  });

  it('writes every record in order, unchanged but for the SpliceAI field of scored ones', () => {
    expect(plain.code).toBe(3);
    const body = bodyOf(plain.out);
    expect(body).toHaveLength(RECORDS.length);
    RECORDS.forEach((r, i) => {
      const got = fields(body[i]);
      const want = r.line.split('\t');
      if (r.warning) {
        expect(body[i], r.line.slice(0, 60)).toBe(`${r.line}\n`);
      } else {
        expect([...got.slice(0, 7), ...got.slice(8)]).toEqual([...want.slice(0, 7), ...want.slice(8)]);
        expect(got[7]).toMatch(/(^|;)SpliceAI=[^|]+\|TUBB8\|(-?\d\.\d\d\|){4}(-?\d+\|){3}-?\d+$/);
        expect(got[7].startsWith(want[7] === '.' ? 'SpliceAI=' : `${want[7]};SpliceAI=`)).toBe(true);
      }
    });
  });

  it('warns once per skipped record, naming its line, says why, and summarises; no stack trace', () => {
    const warnings = plain.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    const expected = RECORDS.map((r, i) => ({ ...r, number: HEADER.length + 1 + i })).filter((r) => r.warning);
    expect(warnings).toHaveLength(expected.length);
    expected.forEach((r, i) => {
      expect(warnings[i]).toMatch(new RegExp(`^warning: line ${r.number}: `));
      expect(warnings[i]).toMatch(r.warning!);
    });
    // Warnings stay one short line even for a record with long alleles or a 1 MB INFO.
    expect(Math.max(...warnings.map((w) => w.length))).toBeLessThan(400);
    expect(plain.stderr).toMatch(
      new RegExp(`^score: ${RECORDS.length} records, ${RECORDS.length - expected.length} scored .*, ${expected.length} not scored: `, 'm'),
    );
    expect(plain.stderr).not.toMatch(STACK);
  });

  it('CRLF input: the same records and scores, CRLF kept on every line', async () => {
    const crlf = await score(vcfText('\r\n'), 'crlf.vcf');
    expect(crlf.code).toBe(3);
    expect(
      crlf.out
        .split('\n')
        .slice(0, -1)
        .every((l) => l.endsWith('\r')),
    ).toBe(true);
    expect(bodyOf(crlf.out).map((l) => l.replace(/\r\n$/, '\n'))).toEqual(bodyOf(plain.out));
    expect(crlf.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toEqual(plain.stderr.split('\n').filter((l) => l.startsWith('warning:')));
  });

  it('plain gzip (not bgzip) input is read like the plain file', async () => {
    const gz = await score(gzipSync(vcfText()), 'in.vcf.gz');
    expect(gz.code).toBe(3);
    expect(bodyOf(gz.out)).toEqual(bodyOf(plain.out));
  });

  it('a header-only VCF gives a header-only output, exit 0', async () => {
    const empty = await score(`${HEADER.join('\n')}\n`, 'empty.vcf');
    expect(empty.code).toBe(0);
    expect(bodyOf(empty.out)).toEqual([]);
    expect(empty.stderr).toMatch(/^score: 0 records, 0 scored/m);
  });

  it('exit codes: 3 when a record was skipped for an input problem, 3 with --strict for any skip, 0 when all were scored', async () => {
    // This VCF has malformed lines, a REF mismatch and an unknown contig: input problems.
    expect(plain.code).toBe(3);
    const strict = await score(vcfText(), 'strict.vcf', ['--strict', '--quiet']);
    expect(strict.code).toBe(3);
    // --quiet keeps the warnings about records: a script still learns which ones.
    expect(strict.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toHaveLength(RECORDS.filter((r) => r.warning).length);
    const clean = await score([...HEADER, RECORDS[0].line, RECORDS[1].line, ''].join('\n'), 'clean.vcf', ['--strict', '--quiet']);
    expect(clean.code).toBe(0);
    expect(clean.stderr).toBe('');
  });

  it('contig names match with or without chr, whatever the FASTA calls them; a CRLF FASTA reads the same', async () => {
    // The same genome with the record named 10 instead of chr10, and with CRLF line ends (no .fai).
    const bare = readFileSync(FASTA, 'latin1').replace(/^>chr10/, '>10');
    await fs.writeFile(join(dir, 'bare.fa'), bare);
    await fs.writeFile(join(dir, 'crlf.fa'), bare.replace(/\n/g, '\r\n'));
    const vcf = [...HEADER, RECORDS[0].line, RECORDS[1].line, ''].join('\n');
    await fs.writeFile(join(dir, 'two.vcf'), vcf);
    const outputs: string[] = [];
    for (const reference of ['ref.fa', 'bare.fa', 'crlf.fa']) {
      const r = await cli(['score', '-I', 'two.vcf', '-R', reference, '-A', ANNOTATION, '--no-checksums', '--quiet', ...MODEL], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      outputs.push(bodyOf(r.stdout).join(''));
    }
    expect(outputs[0]).toMatch(/SpliceAI=.*\n.*SpliceAI=/);
    expect(outputs[1]).toBe(outputs[0]);
    expect(outputs[2]).toBe(outputs[0]);
  });

  it('a gzip (not bgzip) reference is one clear error with a hint: exit 1, no stack trace', async () => {
    await fs.writeFile(join(dir, 'ref.fa.gz'), gzipSync(readFileSync(FASTA)));
    await fs.writeFile(join(dir, 'two.vcf'), [...HEADER, RECORDS[0].line, ''].join('\n'));
    const r = await cli(['score', '-I', 'two.vcf', '-R', 'ref.fa.gz', '-A', ANNOTATION, ...MODEL], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*ref\.fa\.gz: gzip-compressed but not bgzip, so it cannot be read by position\nhint: recompress it: /);
    expect(r.stderr).not.toMatch(STACK);
  });
});

describe('predict: empty, IUPAC, CRLF and gzip FASTA', () => {
  const records = `>empty\n\n>iupac with a description\nACGTRYKMSWBDHVNacgtn\n>tubb8\n${ref(94530, 60)}\n${ref(94590, 40)}\n>last\n${ref(95000, 50)}\n`;
  const predict = (args: string[], stdin?: string) => cli(['predict', ...MODEL, '--format', 'tsv', ...args], { cwd: dir, stdin });
  /** Rows per record name, in order of first appearance. */
  const rowsPerRecord = (tsv: string) => {
    const counts = new Map<string, number>();
    for (const line of tsv.split('\n').slice(1)) if (line) counts.set(line.split('\t')[0], (counts.get(line.split('\t')[0]) ?? 0) + 1);
    return [...counts];
  };
  let plain: CliResult;
  beforeAll(async () => {
    await fs.writeFile(join(dir, 'seqs.fa'), records);
    plain = await predict(['--fasta', 'seqs.fa']);
  });

  it('predicts every non-empty record, IUPAC codes as N, and warns about the empty one', () => {
    expect(plain.code).toBe(0);
    expect(rowsPerRecord(plain.stdout)).toEqual([
      ['iupac', 20],
      ['tubb8', 100],
      ['last', 50],
    ]);
    expect(plain.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toEqual(['warning: empty: empty sequence (0 bases), no rows written']);
    expect(plain.stderr).not.toMatch(STACK);
  });

  it('a CRLF FASTA, FASTA on stdin, gzip on stdin and a plain gzip --fasta give the same rows', async () => {
    await fs.writeFile(join(dir, 'seqs-crlf.fa'), records.replace(/\n/g, '\r\n'));
    await fs.writeFile(join(dir, 'seqs.fa.gz'), gzipSync(records));
    const runs = {
      crlf: await predict(['--fasta', 'seqs-crlf.fa']),
      stdin: await predict([], records),
      gzipFile: await predict(['--fasta', 'seqs.fa.gz']),
      gzipStdin: await cli(['predict', ...MODEL, '--format', 'tsv'], { cwd: dir, stdin: gzipSync(records) }),
    };
    for (const [label, r] of Object.entries(runs)) {
      expect(r.code, `${label}: ${r.stderr}`).toBe(0);
      expect(r.stdout, label).toBe(plain.stdout);
      expect(r.stderr, label).toMatch(/warning: empty: empty sequence/);
      expect(r.stderr, label).not.toMatch(STACK);
    }
  });

  it('an empty --sequence is a warning, not a failure', async () => {
    const r = await predict(['--sequence', '', '--name', 'nothing']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('name\tposition\tneither\tacceptor\tdonor\n');
    expect(r.stderr).toMatch(/^warning: nothing: empty sequence \(0 bases\), no rows written$/m);
  });
});
