import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SPLICEAI_INFO_HEADER } from '@metaspliceai/genomics';
import { cli, MOCK_ADAPTER } from './helpers.js';

const SEQ = (() => {
  let s = '';
  let seed = 9;
  for (let i = 0; i < 2000; i++) s += 'ACGT'[(seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 30];
  return s;
})();
const ref = (pos: number, n = 1) => SEQ.slice(pos - 1, pos - 1 + n);

async function project(): Promise<{ root: string; args: string[] }> {
  const root = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-score-'));
  const files: Record<string, string> = {
    'models/alpha/a_80.mock': JSON.stringify({ context: 80 }),
    'genome.fa': `>chr4\n${SEQ.replace(/(.{70})/g, '$1\n')}\n`,
    'genes.txt':
      '#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\nONE\t4\t+\t200\t1800\t200,900,\t500,1800,\nTWO\t4\t-\t1000\t1500\t1000,\t1500,\n',
    'in.vcf': [
      '##fileformat=VCFv4.2',
      '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO',
      `chr4\t600\t.\t${ref(600)}\tA,T\t.\t.\t.`,
      `4\t1200\t.\t${ref(1200)}\t${ref(1200)}GG\t.\t.\tDP=4`,
      '4\t100\t.\tA\tC\t.\t.\t.',
      '4\tx\t.\tA\tC\t.\t.\t.',
      `4\t700\t.\t${ref(700, 3)}\t${ref(700)}\t.\t.\t.`,
      '',
    ].join('\n'),
  };
  for (const [p, text] of Object.entries(files)) {
    await fs.mkdir(dirname(join(root, p)), { recursive: true });
    await fs.writeFile(join(root, p), text);
  }
  return { root, args: ['--models-dir', join(root, 'models'), '--adapter', MOCK_ADAPTER, '--model', 'mock', '-R', 'genome.fa', '-A', 'genes.txt'] };
}

describe('metaspliceai score', () => {
  it('annotates a VCF file, keeps every record in order, warns once per unscored record and summarises', async () => {
    const { root, args } = await project();
    const r = await cli(['score', '-I', 'in.vcf', '-O', 'out.vcf', ...args], { cwd: root });
    expect(r.stderr).toMatch(/^warning: line 5: 4:100 A>C not scored \(outside genes\)/m);
    expect(r.stderr).toMatch(/^warning: line 6: malformed record written unchanged: POS "x" is not a whole number$/m);
    expect(r.stderr).toMatch(/^score: 5 records, 3 scored \(5 entries\), 2 not scored: 1 outside genes, 1 malformed line; .* variants\/s$/m);
    expect(r.code).toBe(3);
    const out = (await fs.readFile(join(root, 'out.vcf'), 'utf8')).split('\n');
    const input = (await fs.readFile(join(root, 'in.vcf'), 'utf8')).split('\n');
    expect(out[0]).toBe('##fileformat=VCFv4.2');
    expect(out[1]).toBe(SPLICEAI_INFO_HEADER);
    expect(out.filter((l) => l.startsWith('##metaspliceai_')).map((l) => l.split('=')[0])).toEqual([
      '##metaspliceai_scoreCommand',
      '##metaspliceai_model',
      '##metaspliceai_reference',
      '##metaspliceai_annotation',
      '##metaspliceai_parameters',
    ]);
    expect(out.find((l) => l.startsWith('##metaspliceai_model'))).toMatch(
      /adapter=mock;set=alpha;context=80;members=a_80.mock:sha256:[0-9a-f]{64};license=CC0-1.0/,
    );
    expect(out.find((l) => l.startsWith('##metaspliceai_parameters'))).toBe('##metaspliceai_parameters=dist=50;mask=0;window=181;precision=2;encoding=acgt');
    const body = out.slice(out.indexOf(input[1]) + 1);
    expect(body).toHaveLength(input.length - 2);
    expect(body[0]).toMatch(/^chr4\t600\t.*\tSpliceAI=A\|ONE\|[-.\d|]+,T\|ONE\|[-.\d|]+$/);
    expect(body[1]).toMatch(/\tDP=4;SpliceAI=\w+\|ONE\|[-.\d|]+,\w+\|TWO\|[-.\d|]+$/);
    expect(body.slice(2, 4)).toEqual(input.slice(4, 6));
    expect(body[4]).toMatch(/\tSpliceAI=[ACGT]\|ONE\|/);
    expect(body[5]).toBe('');
  });

  it('reads stdin and writes stdout by default, bgzip for -O *.gz, and the numbers do not depend on --batch-size or reference sharing', async () => {
    const { root, args } = await project();
    const vcf = await fs.readFile(join(root, 'in.vcf'), 'utf8');
    const piped = await cli(['score', ...args, '--quiet', '--no-checksums'], { cwd: root, stdin: vcf });
    expect(piped.code).toBe(3);
    expect(piped.stderr).not.toMatch(/^score:/m);
    expect(piped.stdout).toMatch(/SpliceAI=A\|ONE/);
    const gz = await cli(['score', ...args, '-I', 'in.vcf', '-O', 'out.vcf.gz', '--batch-size', '1', '--no-share-reference', '--no-checksums', '--quiet'], {
      cwd: root,
    });
    expect(gz.code).toBe(3);
    const bytes = await fs.readFile(join(root, 'out.vcf.gz'));
    expect(bytes.subarray(12, 14).toString()).toBe('BC');
    expect(gunzipSync(bytes).toString()).toBe(piped.stdout);
  });

  it('exits 3 with --strict when a record is not scored, and 2 on bad flags', async () => {
    const { root, args } = await project();
    expect((await cli(['score', '-I', 'in.vcf', '-O', 'o.vcf', '--strict', '--quiet', ...args], { cwd: root })).code).toBe(3);
    for (const [flag, message] of [
      [['-D', '5000'], /-D takes a whole number from 0 to 4999, got "5000"/],
      [['-M', '2'], /-M takes a whole number from 0 to 1/],
      [['--precision', 'x'], /--precision takes a whole number/],
      [['--transcripts', 'some'], /--transcripts takes canonical or all/],
      // Flags go through the library's own schemas (VariantScorer's, the manager's load), named as flags.
      [['--batch-size', '0'], /--batch-size takes a whole number of at least 1, got "0"/],
      [['--threads', '1.5'], /--threads takes a whole number of at least 1, got "1.5"/],
      [['--device', 'tpu'], /--device takes cpu or gpu, got "tpu"/],
      [['-s', 'x'], /-s takes a number, got "x"/],
    ] as const) {
      const r = await cli(['score', '-I', 'in.vcf', ...args, ...flag], { cwd: root });
      expect(r.code, flag.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const noRef = await cli(['score', '-I', 'in.vcf', '-A', 'genes.txt'], { cwd: root });
    expect(noRef.code).toBe(2);
    expect(noRef.stderr).toMatch(/-R \(the genome FASTA\) is required/);
  });

  it('fails with exit 1 and a hint when grch37 is not built or an input is missing', async () => {
    const { root, args } = await project();
    const r = await cli(['score', '-I', 'in.vcf', ...args.slice(0, -2), '-A', 'grch37', '--data-dir', join(root, 'data')], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: the grch37 annotation table is not installed: looked for .*data\/annotations\/grch37.txt\nhint: .*metaspliceai annotations build/m,
    );
    const missing = await cli(['score', '-I', 'nope.vcf', ...args], { cwd: root });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error: nope.vcf: cannot read the input VCF \(ENOENT\)/);
  });

  it('scores with a GTF given to -A, and with the table built by annotations build --install grch37', async () => {
    const { root, args } = await project();
    const gtf = [
      '4\tt\tgene\t201\t1800\t.\t+\t.\tgene_id "G1"; gene_name "ONE";',
      '4\tt\texon\t201\t500\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; gene_name "ONE";',
      '4\tt\texon\t901\t1800\t.\t+\t.\tgene_id "G1"; transcript_id "T1"; gene_name "ONE";',
      '4\tt\texon\t1001\t1500\t.\t-\t.\tgene_id "G2"; transcript_id "T2"; gene_name "TWO";',
      '',
    ].join('\n');
    await fs.writeFile(join(root, 'genes.gtf'), gtf);
    const table = await cli(['score', '-I', 'in.vcf', '--no-checksums', '--quiet', ...args], { cwd: root });
    const fromGtf = await cli(['score', '-I', 'in.vcf', '--no-checksums', '--quiet', ...args.slice(0, -1), 'genes.gtf'], { cwd: root });
    const body = (s: string) => s.split('\n').filter((l) => !l.startsWith('##metaspliceai_'));
    expect(body(fromGtf.stdout)).toEqual(body(table.stdout));
    const built = await cli(['annotations', 'build', 'genes.gtf', '--install', 'grch37', '--data-dir', 'data'], { cwd: root });
    expect(built.code).toBe(0);
    expect(built.stderr).toMatch(/annotations: 2 transcripts of 2 genes from GTF genes.gtf; wrote data\/annotations\/grch37.txt/);
    expect(await fs.readFile(join(root, 'data/annotations/grch37.txt'), 'utf8')).toBe(await fs.readFile(join(root, 'genes.txt'), 'utf8'));
    const builtin = await cli(['score', '-I', 'in.vcf', '--no-checksums', '--quiet', ...args.slice(0, -1), 'grch37', '--data-dir', 'data'], { cwd: root });
    expect(body(builtin.stdout)).toEqual(body(table.stdout));
  });
});
