/**
 * Fuzzes the .pt reader with mutated copies of a real OpenSpliceAI checkpoint: raw byte mutations
 * of the whole archive (zip structures, CRCs, the pickle) and mutations of one entry re-zipped with
 * correct CRCs (so the pickle VM and the tensor checks see them). Every
 * outcome must be an accepted file or a ModelFileError / UnsafeModelFileError naming the file; the
 * budget is METASPLICEAI_FUZZ_SECONDS per target (default 3).
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError, UnsafeModelFileError } from '@metaspliceai/core';
import { readStateDict, readStateDictIndex } from '../src/index.js';
import { ZipArchive } from '../src/zip.js';
import { MODELS_DIR } from '../../../test-support/shared.js';
import { fuzz, fuzzTimeout, mutate, type Random, typedOutcome } from '../../../test-support/fuzz.js';
import { makeZip, type ZipInput } from './helpers/zip-writer.js';

const REAL = join(MODELS_DIR, 'openspliceai/openspliceai-mane/80nt/model_80nt_rs10.pt');
const CODES = [ModelFileError.code, UnsafeModelFileError.code];

const dir = mkdtempSync(join(tmpdir(), 'metaspliceai-pt-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const original = readFileSync(REAL);
let entries: { name: string; data: Uint8Array }[] = [];
/** Byte ranges of the zip structures: local headers, the central directory and its end record. */
let structure: [number, number][] = [];

beforeAll(async () => {
  const zip = await ZipArchive.open(REAL);
  try {
    const list = [...zip.entries.values()];
    const data = await zip.readEntries(list);
    entries = list.map((e) => ({ name: e.name, data: Uint8Array.from(data.get(e.name)!) }));
    structure = list.map((e) => [e.localHeaderOffset, e.localHeaderOffset + 30 + e.rawName.length + 64] as [number, number]);
    const cd = original.lastIndexOf(Buffer.from('PK\x01\x02', 'latin1'), original.length - 1);
    const firstCd = original.indexOf(Buffer.from('PK\x01\x02', 'latin1'));
    structure.push([firstCd, cd + 46 + 64], [original.length - 22, original.length]);
  } finally {
    await zip.close();
  }
});

/** Both read paths as adapters run them: the index (inspection) and the values (load). */
async function readBothWays(file: string) {
  const index = await typedOutcome(async () => readStateDictIndex(file), file, CODES);
  const load = await typedOutcome(async () => readStateDict(file), file, CODES);
  // The index checks what loading relies on: a file it refuses must not load.
  if (index !== 'accepted') expect(load, `the index refused (${index.message}) but load accepted`).not.toBe('accepted');
  return load === 'accepted' ? index : load;
}

/** Names a torch pickle uses, and what a mutation may swap them for (other dtypes, refused globals). */
const TOKENS: Record<string, readonly string[]> = {
  FloatStorage: ['IntStorage', 'LongStorage', 'HalfStorage', 'DoubleStorage', 'BoolStorage', 'ByteStorage', 'UntypedStorage', 'Storage'],
  _rebuild_tensor_v2: ['_rebuild_parameter', '_rebuild_tensor', '_rebuild_qtensor', 'system'],
  OrderedDict: ['defaultdict', 'Counter', 'OrderedDictX'],
  collections: ['builtins', 'os', 'subprocess', 'posix'],
  'cuda:0': ['cpu', '', 'cuda:99', 'cuda:x', 'cuda:', 'mps'],
  storage: ['module', 'storag'],
};

/** Swaps one occurrence of a known name in the pickle (the pickle's text framing keeps it parseable). */
function swapToken(data: Uint8Array, random: Random): { bytes: Uint8Array; steps: string[] } {
  const text = Buffer.from(data).toString('latin1');
  const from = random.pick(Object.keys(TOKENS));
  const to = random.pick(TOKENS[from]);
  const hits: number[] = [];
  for (let at = text.indexOf(from); at !== -1; at = text.indexOf(from, at + 1)) hits.push(at);
  if (hits.length === 0) return { bytes: data, steps: [] };
  const at = random.pick(hits);
  return { bytes: Buffer.from(text.slice(0, at) + to + text.slice(at + from.length), 'latin1'), steps: [`swap ${from}->${to}@${at}`] };
}

/** One entry's bytes mutated, then re-zipped (stored or deflated) with CRCs that match. */
function entryMutation(random: Random): { bytes: Uint8Array; steps: string[] } {
  const pkl = entries.findIndex((e) => e.name.endsWith('data.pkl'));
  const index = random() < 0.7 ? pkl : random.int(entries.length);
  const target = entries[index];
  const swapped = index === pkl && random() < 0.3 ? swapToken(target.data, random) : undefined;
  const { bytes, steps } = swapped && random() < 0.5 ? swapped : mutate(swapped?.bytes ?? target.data, random, { maxMutations: 4 });
  if (swapped && bytes !== swapped.bytes) steps.unshift(...swapped.steps);
  const method = random() < 0.15 ? 8 : 0;
  const rezipped: ZipInput[] = entries.map((e, i) => ({ name: e.name, data: i === index ? bytes : e.data, method }));
  return { bytes: makeZip(rezipped), steps: [`entry ${target.name}${method ? ' (deflated)' : ''}`, ...steps] };
}

describe('fuzz: the .pt reader', () => {
  it(
    'mutated checkpoints give a typed error naming the file, or load',
    async () => {
      const stats = await fuzz({ name: 'pt' }, async ({ iteration, random }, record) => {
        const { bytes, steps } = random() < 0.5 ? entryMutation(random) : mutate(original, random, { focus: structure, focusShare: 0.6 });
        record(bytes, steps);
        const file = join(dir, `case-${iteration}.pt`);
        writeFileSync(file, bytes);
        try {
          return await readBothWays(file);
        } finally {
          unlinkSync(file);
        }
      });
      expect(stats.iterations).toBeGreaterThan(0);
      // Most mutations must be caught; a reader that accepts everything checks nothing.
      expect(Object.values(stats.refused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    },
    fuzzTimeout(),
  );
});
