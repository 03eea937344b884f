import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODELS_DIR, SHARED } from '../../../test-support/shared.js';
import { cli } from './helpers.js';

interface PangolinCase {
  name: string;
  chrom: string;
  pos: number;
  ref: string;
  alts: string[];
  distance: number;
  mask: boolean;
  expected: string[] | null;
  skip_warning: string | null;
  info: string;
  gtf?: string;
}

const FIXTURES = join(SHARED, 'fixtures/pangolin');
const FASTA = join(SHARED, 'data/chr10_hg19_test.fa');
const fixture = JSON.parse(readFileSync(join(FIXTURES, 'variant_cases.json'), 'utf8')) as { gtf: string; cases: PangolinCase[] };
/** The fixture names files from the steering repo root (`shared/...`). */
const shared = (path: string) => join(SHARED, path.replace(/^shared\//, ''));

/** Runs `metaspliceai score --model pangolin` on cases sharing -A/-D/-M (one VCF); returns INFO columns and stderr. */
async function score(cases: PangolinCase[], gtf: string, flags: string[]): Promise<{ info: string[]; stderr: string; code: number; header: string[] }> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-pangolin-'));
  const vcf = [
    '##fileformat=VCFv4.2',
    '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO',
    ...cases.map((c) => `${c.chrom}\t${c.pos}\t${c.name}\t${c.ref}\t${c.alts.join(',')}\t.\t.\t.`),
    '',
  ].join('\n');
  await fs.writeFile(join(dir, 'in.vcf'), vcf);
  const r = await cli(
    ['score', '--model', 'pangolin', '-I', 'in.vcf', '-O', 'out.vcf', '-R', FASTA, '-A', gtf, '--models-dir', MODELS_DIR, '--quiet', ...flags],
    { cwd: dir },
  );
  const text = await fs.readFile(join(dir, 'out.vcf'), 'utf8').catch(() => '');
  await fs.rm(dir, { recursive: true, force: true });
  const lines = text.split('\n').filter((l) => l);
  return {
    info: lines.filter((l) => !l.startsWith('#')).map((l) => l.split('\t')[7]),
    stderr: r.stderr,
    code: r.code,
    header: lines.filter((l) => l.startsWith('##')),
  };
}

describe('score --model pangolin reproduces upstream pangolin.py string for string (real weights)', () => {
  const groups = new Map<string, PangolinCase[]>();
  for (const c of fixture.cases) {
    const key = `${c.gtf ?? fixture.gtf}|${c.distance}|${c.mask ? 1 : 0}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const [key, cases] of groups) {
    const [gtf, d, m] = key.split('|');
    it(`-A ${gtf.split('/').pop()} -D ${d} -M ${m}: ${cases.map((c) => c.name).join(', ')}`, async () => {
      const r = await score(cases, shared(gtf), ['-D', d, '-M', m]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.header).toContain(
        '##INFO=<ID=Pangolin,Number=.,Type=String,Description="Pangolin splice scores. Format: gene|pos:score_change|pos:score_change|warnings,...">',
      );
      cases.forEach((c, i) => {
        expect(r.info[i], c.name).toBe(c.info);
        if (c.skip_warning)
          expect(r.stderr, c.name).toContain(`${c.chrom}:${c.pos} ${c.ref}>${c.alts.join(',')} not scored (no scorable ALT): ${c.skip_warning}`);
      });
    }, 600_000);
  }

  it('-s lists every position past the cutoff; options of the other rule are usage errors', async () => {
    const c = fixture.cases.find((x) => x.name === 'snv_e3_donor_exonic_94555_d50_mT')!;
    const r = await score([c], shared(fixture.gtf), ['-M', '0', '-s', '0.5']);
    expect(r.code, r.stderr).toBe(0);
    const [gene, ...rest] = r.info[0].replace(/^Pangolin=/, '').split('|');
    expect(gene).toBe('TUBB8-gene');
    expect(rest.pop()).toBe('Warnings:');
    expect(rest).toContain('0:-0.6899999976158142');
    for (const entry of rest) expect(Math.abs(Number(entry.split(':')[1]))).toBeGreaterThanOrEqual(0.5);
    for (const flags of [
      ['--precision', '3'],
      ['--transcripts', 'all'],
    ]) {
      const bad = await score([c], shared(fixture.gtf), flags);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/applies to the spliceai rule/);
    }
    const table = await score([c], join(SHARED, 'fixtures/tubb8_grch37.tsv'), []);
    expect(table.code).not.toBe(0);
    expect(table.stderr).toMatch(/a SpliceAI annotation table has no Ensembl_canonical tags/);
  }, 600_000);

  it('is the default rule of the pangolin family; mask on by default; the spliceai rule needs tracks Pangolin lacks', async () => {
    const c = fixture.cases.find((x) => x.name === 'snv_e3_donor_exonic_94555_d50_mT')!;
    const r = await score([c], shared(fixture.gtf), []);
    expect(r.info[0]).toBe(c.info);
    const wrong = await score([c], shared(fixture.gtf), ['--rule', 'spliceai']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/scoring rule "spliceai" needs the tracks acceptor, donor; model pangolin.* has p_splice_heart, usage_heart/);
  }, 600_000);
});
