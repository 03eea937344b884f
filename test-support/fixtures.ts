import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED } from './shared.js';

export const FIXTURES = join(SHARED, 'fixtures');

/** The fixture sequences (`sequences.fa`), keyed by record name, case kept. */
export function readFixtureSequences(): Map<string, string> {
  const text = readFileSync(join(FIXTURES, 'sequences.fa'), 'utf8');
  const records = new Map<string, string>();
  let name: string | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('>')) {
      name = line.slice(1).split(/\s/)[0]!;
      records.set(name, '');
    } else if (name !== undefined) {
      records.set(name, records.get(name)! + line.trim());
    }
  }
  return records;
}

/** Expected per-position probabilities `[neither, acceptor, donor]` for one fixture and key. */
export function readExpected(name: string, key: string): number[][] {
  const json = JSON.parse(readFileSync(join(FIXTURES, 'expected', `${name}.json`), 'utf8')) as { outputs: Record<string, number[][]> };
  const rows = json.outputs[key];
  if (!rows) throw new Error(`no key ${key} in ${name}.json`);
  return rows;
}

/** The largest absolute difference between predictions (flat, 3 per position) and expected rows. */
export function maxAbsDifference(actual: Float32Array, expected: number[][]): number {
  if (actual.length !== expected.length * 3) throw new Error(`got ${actual.length / 3} positions, expected ${expected.length}`);
  let worst = 0;
  expected.forEach((row, i) => {
    for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(actual[i * 3 + c] - row[c]));
  });
  return worst;
}
