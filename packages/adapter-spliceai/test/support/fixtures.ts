import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The read-only shared folder (models, fixtures), found relative to this file. */
export const SHARED = fileURLToPath(new URL('../../../../../shared/', import.meta.url));

/** Absolute path of `shared/models/spliceai/spliceai<i>.h5`. */
export function spliceaiFile(i: number): string {
  return `${SHARED}models/spliceai/spliceai${i}.h5`;
}

/** The fixture sequences, keyed by FASTA record name, as stored (mixed case). */
export function readFixtureSequences(): Map<string, string> {
  const text = readFileSync(`${SHARED}fixtures/sequences.fa`, 'utf8');
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
  const json = JSON.parse(readFileSync(`${SHARED}fixtures/expected/${name}.json`, 'utf8')) as {
    outputs: Record<string, number[][]>;
  };
  const rows = json.outputs[key];
  if (!rows) throw new Error(`no key ${key} in ${name}.json`);
  return rows;
}
