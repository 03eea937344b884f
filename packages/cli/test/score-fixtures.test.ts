import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODELS_DIR, SHARED } from '../../../test-support/shared.js';
import { cli } from './helpers.js';

interface DeltaCase {
  name: string;
  chrom: string;
  pos: number;
  ref: string;
  alts: string[];
  dist: number;
  mask: number;
  expected: string[];
  model?: { adapter: string; set: string; context: number };
}

const FIXTURES = join(SHARED, 'fixtures');
const FASTA = join(SHARED, 'data/chr10_hg19_test.fa');
const ANNOTATION = join(FIXTURES, 'tubb8_grch37.tsv');
const load = (file: string) => (JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as { cases: DeltaCase[] }).cases;

/** Runs `metaspliceai score` on the cases (one VCF) and returns each record's SpliceAI field. */
async function score(cases: DeltaCase[], flags: string[]): Promise<string[]> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-score-fixtures-'));
  const vcf = [
    '##fileformat=VCFv4.2',
    '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO',
    ...cases.map((c) => `${c.chrom}\t${c.pos}\t${c.name}\t${c.ref}\t${c.alts.join(',')}\t.\t.\t.`),
    '',
  ].join('\n');
  await fs.writeFile(join(dir, 'in.vcf'), vcf);
  const r = await cli(['score', '-I', 'in.vcf', '-O', 'out.vcf', '-R', FASTA, '-A', ANNOTATION, '--models-dir', MODELS_DIR, '--quiet', ...flags], { cwd: dir });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const body = (await fs.readFile(join(dir, 'out.vcf'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#'));
  expect(body).toHaveLength(cases.length);
  return body.map((l) => /(?:^|;)SpliceAI=([^;\t]*)/.exec(l.split('\t')[7])?.[1] ?? '');
}

describe('score reproduces the reference delta strings (real weights)', () => {
  const spliceai = load('delta_cases.json');
  const groups = new Map<string, DeltaCase[]>();
  for (const c of spliceai) {
    const key = `${c.dist}/${c.mask}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const [key, cases] of groups) {
    const [dist, mask] = key.split('/');
    it(`SpliceAI ensemble, -D ${dist} -M ${mask}: ${cases.length} variants`, async () => {
      const got = await score(cases, ['--model', 'spliceai', '-D', dist, '-M', mask]);
      cases.forEach((c, i) => expect(got[i], `${c.name} -D ${dist}`).toBe(c.expected.join(',')));
    });
  }

  for (const c of load('delta_cases_openspliceai.json')) {
    it(`OpenSpliceAI ${c.model!.set} ${c.model!.context} nt: ${c.name}`, async () => {
      const [got] = await score(
        [c],
        [
          '--model',
          c.model!.adapter,
          '--set',
          c.model!.set,
          '--context',
          String(c.model!.context),
          '-D',
          String(c.dist),
          '-M',
          String(c.mask),
          '--precision',
          '2',
        ],
      );
      expect(got).toBe(c.expected.join(','));
    });
  }
});

describe('the library scorer matches the reference raw deltas (real weights)', () => {
  it('SpliceAI -D 50: every delta within 2e-5 of the reference, the same with and without a shared reference pass', async () => {
    const { createModelManager } = await import('@metaspliceai/core');
    const { loadAnnotation, openFasta, VariantScorer } = await import('@metaspliceai/genomics');
    const { registerAdapters } = await import('../src/adapters.js');
    const manager = createModelManager({ modelsDir: MODELS_DIR });
    await registerAdapters(manager);
    const loaded = await manager.load({ adapter: 'spliceai' });
    try {
      const fasta = await openFasta(FASTA);
      const annotation = (await loadAnnotation(ANNOTATION)).table;
      const cases = load('delta_cases.json').filter((c) => c.dist === 50);
      const raw = (c: DeltaCase) => (c as DeltaCase & { raw: { ds: number[]; dp: number[] }[] }).raw;
      for (const shareReference of [true, false]) {
        const scorer = new VariantScorer({ model: loaded.model, fasta, annotation, dist: 50, shareReference });
        const results = await scorer.scoreMany(cases);
        results.forEach((r, i) => {
          const [expected] = raw(cases[i]);
          const delta = r.entries[0].delta!;
          expect(delta.positions, cases[i].name).toEqual(expected.dp);
          delta.scores.forEach((s, k) => expect(Math.abs(s - expected.ds[k]), `${cases[i].name} score ${k}`).toBeLessThan(2e-5));
        });
      }
    } finally {
      await loaded.dispose();
    }
  });
});
