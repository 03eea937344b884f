import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { MODELS_DIR, SHARED } from '../../../test-support/shared.js';
import { cli } from './helpers.js';

const FASTA = resolve(SHARED, 'data', 'chr10_hg19_test.fa');
const TUBB8 = resolve(SHARED, 'fixtures', 'tubb8_grch37.tsv');
const dir = mkdtempSync(join(tmpdir(), 'msa-raw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('score --raw', () => {
  test('writes the bw2/SpliceAI fork layout: STRAND after the gene, REF/ALT probabilities after the positions', async () => {
    const vcf = join(dir, 'in.vcf');
    writeFileSync(vcf, '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n10\t94077\t.\tA\tC\t.\t.\t.\n10\t94077\t.\tAC\tA,GT\t.\t.\t.\n');
    const plain = await cli(['score', '-I', vcf, '-R', FASTA, '-A', TUBB8, '-D', '500', '--models-dir', MODELS_DIR, '--threads', '2', '--quiet']);
    const raw = await cli(['score', '-I', vcf, '-R', FASTA, '-A', TUBB8, '-D', '500', '--raw', '--models-dir', MODELS_DIR, '--threads', '2', '--quiet']);
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout).toMatch(
      /##INFO=<ID=SpliceAI,.*Format: ALLELE\|NAME\|STRAND\|DS_AG\|DS_AL\|DS_DG\|DS_DL\|DP_AG\|DP_AL\|DP_DG\|DP_DL\|DS_AG_REF\|DS_AG_ALT\|DS_AL_REF\|DS_AL_ALT\|DS_DG_REF\|DS_DG_ALT\|DS_DL_REF\|DS_DL_ALT">/,
    );
    expect(raw.stdout).toMatch(/##metaspliceai_scoreCommand=.* --raw/);
    const info = (out: string) =>
      out
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => /SpliceAI=([^;\t]+)/.exec(l)![1]);
    const [snv, indels] = info(raw.stdout);
    const [plainSnv, plainIndels] = info(plain.stdout);
    const f = snv.split('|');
    expect(f.slice(0, 11)).toEqual(['C', 'TUBB8', '-', '0.15', '0.27', '0.00', '0.05', '89', '-23', '-267', '193']);
    expect(f).toHaveLength(19);
    // The deltas and positions are SpliceAI's own; each delta is ALT-REF (gains) or REF-ALT (losses) of the probabilities beside it.
    expect([f[0], f[1], ...f.slice(3, 11)].join('|')).toBe(plainSnv);
    const n = f.map(Number);
    expect(Math.abs(n[12] - n[11] - n[3])).toBeLessThanOrEqual(0.011);
    expect(Math.abs(n[13] - n[14] - n[4])).toBeLessThanOrEqual(0.011);
    expect(Math.abs(n[16] - n[15] - n[5])).toBeLessThanOrEqual(0.011);
    expect(Math.abs(n[17] - n[18] - n[6])).toBeLessThanOrEqual(0.011);
    // A deletion is scored; REF and ALT both longer than 1 gets dots, as SpliceAI writes them.
    const [del, mnp] = indels.split(',');
    const [plainDel] = plainIndels.split(',');
    expect(del.split('|')).toHaveLength(19);
    expect([...del.split('|').slice(0, 2), ...del.split('|').slice(3, 11)].join('|')).toBe(plainDel);
    expect(mnp).toBe(`GT|TUBB8|-${'|.'.repeat(16)}`);
  });

  test('--raw with the pangolin rule is a usage error', async () => {
    const r = await cli(['score', '-I', join(dir, 'in.vcf'), '-R', FASTA, '-A', TUBB8, '--rule', 'pangolin', '--raw', '--models-dir', MODELS_DIR]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--raw applies to the spliceai rule/);
  });
});
