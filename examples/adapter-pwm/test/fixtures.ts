import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, and `../shared` beside it (fixtures, read-only). */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const SHARED = resolve(REPO, '..', 'shared');
export const MODEL_FILE = fileURLToPath(new URL('../models/pwm-human/50nt/splice-sites.pwm.json', import.meta.url));
export const MODELS_DIR = fileURLToPath(new URL('../models', import.meta.url));

/** One record of ../shared/fixtures/sequences.fa, upper-cased, with its header. */
export function fixtureSequence(name: string): { header: string; sequence: string } {
  const text = readFileSync(resolve(SHARED, 'fixtures', 'sequences.fa'), 'utf8');
  for (const record of text.split('>').slice(1)) {
    const [header, ...lines] = record.split('\n');
    if (header.split(/\s/)[0] === name) return { header, sequence: lines.join('').trim().toUpperCase() };
  }
  throw new Error(`no record ${name} in ../shared/fixtures/sequences.fa`);
}

/** The exon boundaries of the annotation row in ../shared/fixtures/tubb8_grch37.tsv (1-based). */
export function tubb8Exons(): { strand: string; exons: [number, number][] } {
  const row = readFileSync(resolve(SHARED, 'fixtures', 'tubb8_grch37.tsv'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('TUBB8'))!;
  const f = row.split('\t');
  const starts = f[5].split(',').filter(Boolean).map(Number);
  const ends = f[6].split(',').filter(Boolean).map(Number);
  return { strand: f[2], exons: starts.map((s, i) => [s + 1, ends[i]]) };
}
