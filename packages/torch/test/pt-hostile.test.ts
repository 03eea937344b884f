import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MetaSpliceAIError, ModelFileError, UnsafeModelFileError } from '@metaspliceai/core';
import { readStateDict, readStateDictIndex } from '../src/index.js';
import { f32, PickleWriter, stateDictPickle, torchEntries, writeTensor, type TensorSpec } from './helpers/pickle-writer.js';
import { makeZip, type ZipInput } from './helpers/zip-writer.js';
import { crc32 } from 'node:zlib';
import { unpickle, type PickleLimits } from '../src/pickle.js';
import { MODELS_DIR } from '../../../test-support/shared.js';

const models = join(MODELS_DIR, 'openspliceai');
const real80 = join(models, 'openspliceai-mane/80nt/model_80nt_rs10.pt');

const dir = mkdtempSync(join(tmpdir(), 'pt-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
function write(bytes: Uint8Array, name = `f${counter++}.pt`): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

type Kind = 'unsafe' | 'corrupt';

/** Both readers must refuse `file` with the given error kind, naming the file; returns the message. */
async function refused(file: string, kind: Kind, pattern?: RegExp, readers = [readStateDictIndex, readStateDict]): Promise<string> {
  let message = '';
  for (const read of readers) {
    const error = await read(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error, `${read.name} accepted ${file}`).toBeDefined();
    const ok = kind === 'unsafe' ? UnsafeModelFileError.isInstance(error) : ModelFileError.isInstance(error);
    expect(ok, `${read.name}: expected ${kind}, got ${String(error)}`).toBe(true);
    message = (error as Error).message;
    expect(message).toContain(file);
    if (pattern) expect(message).toMatch(pattern);
  }
  return message;
}

/** A torch-style archive whose pickle is `pkl` and that has one float storage '0' of 4 elements. */
function archive(pkl: Uint8Array, storages: Record<string, Uint8Array> = { '0': f32([1, 2, 3, 4]) }): Uint8Array {
  return makeZip(torchEntries(pkl, storages));
}

const goodTensor: TensorSpec = { name: 'w', key: '0', numel: 4, size: [2, 2] };

describe('refuses pickles that would run code', () => {
  const marker = join(dir, 'pwned');

  /** `<module>.<name>('touch <marker>')`, the classic payload. */
  const callPayload = (module: string, name: string) =>
    new PickleWriter().proto(2).global(module, name).str(`touch ${marker}`).tuple1().reduce().stop().bytes();

  for (const [module, name] of [
    ['os', 'system'],
    ['posix', 'system'],
    ['builtins', 'eval'],
    ['builtins', 'exec'],
    ['__builtin__', 'eval'],
    ['subprocess', 'Popen'],
    ['torch.storage', '_load_from_bytes'],
    ['torch', 'load'],
    ['collections', 'defaultdict'],
  ]) {
    it(`GLOBAL ${module}.${name} + REDUCE`, async () => {
      const file = write(archive(callPayload(module, name)));
      const msg = await refused(file, 'unsafe', new RegExp(`'${module.replace('.', '\\.')}\\.${name}'`));
      expect(msg).toMatch(/not on the allowlist/);
      expect(msg).toMatch(/nothing in the file was run/);
      expect(existsSync(marker)).toBe(false);
    });
  }

  it('a refused global inside an otherwise valid state_dict', async () => {
    const w = new PickleWriter().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().mark();
    writeTensor(w.str('w'), goodTensor);
    w.str('evil').global('os', 'system').str(`touch ${marker}`).tuple1().reduce();
    const file = write(archive(w.setitems().stop().bytes()));
    await refused(file, 'unsafe', /'os\.system'/);
    expect(existsSync(marker)).toBe(false);
  });

  it('STACK_GLOBAL (protocol 4) is checked against the same allowlist', async () => {
    const pkl = new PickleWriter().proto(4).shortStr('builtins').shortStr('exec').raw(0x93).str('1').tuple1().reduce().stop().bytes();
    await refused(write(archive(pkl)), 'unsafe', /'builtins\.exec'/);
  });

  it('INST / OBJ and other unknown opcodes', async () => {
    const inst = new PickleWriter()
      .proto(2)
      .mark()
      .str(`touch ${marker}`)
      .raw(0x69, ...Buffer.from('os\nsystem\n'))
      .stop()
      .bytes();
    await refused(write(archive(inst)), 'unsafe', /opcode 0x69/);
    const obj = new PickleWriter().proto(2).mark().global('collections', 'OrderedDict').raw(0x6f).stop().bytes();
    await refused(write(archive(obj)), 'unsafe', /opcode 0x6f/);
    const textInt = new PickleWriter()
      .proto(2)
      .raw(0x49, ...Buffer.from('1\n'))
      .stop()
      .bytes();
    await refused(write(archive(textInt)), 'unsafe', /opcode 0x49/);
    expect(existsSync(marker)).toBe(false);
  });

  it('REDUCE on something that is not an allowed callable', async () => {
    const pkl = new PickleWriter().proto(2).global('torch', 'FloatStorage').int(4).tuple1().reduce().stop().bytes();
    await refused(write(archive(pkl)), 'unsafe', /REDUCE would call torch\.FloatStorage/);
  });

  it('BUILD on a tensor', async () => {
    const w = new PickleWriter().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().str('w');
    writeTensor(w, goodTensor).emptyDict().build().setitem().stop();
    await refused(write(archive(w.bytes())), 'unsafe', /BUILD would set the state of TensorRef/);
  });

  it('a persistent id that is not a storage reference', async () => {
    const pkl = new PickleWriter().proto(2).str('os.system').binpersid().stop().bytes();
    await refused(write(archive(pkl)), 'unsafe', /persistent id/);
  });
});

describe('refuses tensors that point outside the archive or their storage', () => {
  it('a persistent id naming a storage entry that does not exist', async () => {
    const pkl = stateDictPickle([{ ...goodTensor, key: '7' }]);
    await refused(write(archive(pkl)), 'unsafe', /no entry 'archive\/data\/7'/);
  });

  it('a storage key that tries to climb out of data/', async () => {
    const pkl = stateDictPickle([{ ...goodTensor, key: '../data.pkl' }]);
    await refused(write(archive(pkl)), 'unsafe', /not a plain record name/);
  });

  it('a storage that declares more elements than its entry holds', async () => {
    const pkl = stateDictPickle([{ ...goodTensor, numel: 1000, size: [1000] }]);
    await refused(write(archive(pkl)), 'unsafe', /declared as 1000 float32 elements/);
  });

  it('a storage location tag that is not a string', async () => {
    const pkl = stateDictPickle([{ ...goodTensor, location: 0 }]);
    await refused(write(archive(pkl)), 'corrupt', /expected a device string in a persistent id, found int/);
  });

  for (const location of ['cuda:x', 'cuda:', 'cuda:-1', 'cuda:0:1', 'mps', 'cpu ', 'CUDA:0', 'cuda:0/../x', '']) {
    it(`a storage location tag ${JSON.stringify(location)} that torch does not write`, async () => {
      const pkl = stateDictPickle([{ ...goodTensor, location }]);
      await refused(write(archive(pkl)), 'corrupt', /storage location .* expected 'cpu', 'cuda' or 'cuda:<n>'/);
    });
  }

  for (const [label, spec] of [
    ['a size larger than the storage', { size: [5] }],
    ['an offset past the end', { offset: 3, size: [2] }],
    ['a stride that overruns', { size: [2, 2], stride: [3, 1] }],
    ['a huge stride-0 broadcast', { size: [2 ** 20, 2 ** 20], stride: [0, 0] }],
    ['a negative size', { size: [-1] }],
    ['size and stride of different lengths', { size: [2, 2], stride: [1] }],
  ] as [string, Partial<TensorSpec>][]) {
    it(label, async () => {
      const w = new PickleWriter().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().str('w');
      const t = { ...goodTensor, ...spec };
      // Negative ints need BININT; the writer handles them.
      writeTensor(w, t).setitem().stop();
      await refused(write(archive(w.bytes())), 'unsafe', /does not fit it/);
    });
  }
});

describe('refuses hostile archives', () => {
  const pkl = stateDictPickle([goodTensor]);

  for (const name of ['../evil', 'archive/../../evil', '/etc/passwd', 'C:\\evil', 'a\\..\\b']) {
    it(`an entry named ${JSON.stringify(name)}`, async () => {
      const entries = torchEntries(pkl, { '0': f32([1, 2, 3, 4]) });
      entries.push({ name, data: Buffer.from('x') });
      await refused(write(makeZip(entries)), 'unsafe', /entry name .* refused/);
    });
  }

  it('duplicate entry names', async () => {
    const entries = torchEntries(pkl, { '0': f32([1, 2, 3, 4]) });
    entries.push({ name: 'archive/data/0', data: f32([9, 9, 9, 9]) });
    await refused(write(makeZip(entries)), 'unsafe', /appears twice/);
  });

  it('overlapping entries', async () => {
    const entries: ZipInput[] = torchEntries(pkl, { '0': f32([1, 2, 3, 4]) });
    entries.push({ name: 'archive/extra', data: Buffer.from('x'), offsetOf: 0 });
    await refused(write(makeZip(entries)), 'unsafe', /overlaps/);
  });

  it('an entry that declares more bytes than the file has', async () => {
    const entries = torchEntries(pkl, { '0': f32([1, 2, 3, 4]) });
    entries[2] = { ...entries[2], size: 2 ** 30, compressedSize: 2 ** 30 };
    await refused(write(makeZip(entries)), 'unsafe', /beyond the archive's data area/);
  });

  it('an entry over the 2 GiB limit', async () => {
    const entries = torchEntries(pkl, { '0': f32([1, 2, 3, 4]) });
    entries[2] = { ...entries[2], method: 8, size: 2 ** 31 + 1 };
    await refused(write(makeZip(entries)), 'unsafe', /over the 2147483648-byte limit/);
  });

  it('a deflate bomb (declared ratio)', async () => {
    const entries = torchEntries(pkl, { '0': f32([1, 2, 3, 4]) });
    entries[2] = { ...entries[2], method: 8, size: 100_000_000 };
    await refused(write(makeZip(entries)), 'unsafe', /zip bomb/);
  });

  it('a deflated entry that inflates past its declared size', async () => {
    const big = new Uint8Array(1 << 20);
    const entries = torchEntries(pkl, { '0': f32([1, 2, 3, 4]), bomb: big }, { method: 8 });
    const i = entries.findIndex((e) => e.name === 'archive/data/bomb');
    entries[i] = { ...entries[i], size: 16 };
    // Only the full read inflates storages; reference the bomb from a tensor so it is read.
    const bombPkl = stateDictPickle([goodTensor, { name: 'b', key: 'bomb', numel: 4, size: [4] }]);
    entries[0] = { ...entries[0], data: bombPkl };
    await refused(write(makeZip(entries)), 'unsafe', /inflates past its declared 16 bytes/, [readStateDict]);
  });

  it('a bad CRC', async () => {
    const entries = torchEntries(pkl, { '0': f32([1, 2, 3, 4]) });
    entries[0] = { ...entries[0], crc: 0x12345678 };
    await refused(write(makeZip(entries)), 'corrupt', /CRC-32 mismatch/);
  });

  it('a local header that names a different file than the central directory', async () => {
    const entries = torchEntries(pkl, { '0': f32([1, 2, 3, 4]) });
    entries[0] = { ...entries[0], localName: 'archive/other.pk' };
    await refused(write(makeZip(entries)), 'unsafe', /local header names a different file/);
  });

  it('deeply nested MARKs', async () => {
    const w = new PickleWriter().proto(2);
    for (let i = 0; i < 300; i++) w.mark();
    await refused(write(archive(w.stop().bytes())), 'unsafe', /MARKs nest deeper/);
  });
});

describe('refuses bombs: small files that would make the reader allocate or inflate without bound', () => {
  const pkl = stateDictPickle([goodTensor]);
  /** Incompressible bytes, so a deflated copy is as large as the data (a plausible compressed size). */
  const noise = (n: number) => {
    const b = Buffer.alloc(n);
    let x = 7;
    for (let i = 0; i < n; i++) b[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    return b;
  };

  it('entries that together declare more than the 4 GiB limit, each within the per-entry and ratio limits', async () => {
    const entries = torchEntries(pkl, { '0': f32([1, 2, 3, 4]) });
    for (let i = 0; i < 3; i++) entries.push({ name: `archive/data/big${i}`, data: noise(1_500_000), method: 8, size: 1.5 * 2 ** 30 });
    await refused(write(makeZip(entries)), 'unsafe', /more than 4294967296 bytes in all/);
  });

  it('a data.pkl that declares more than 64 MiB, refused before it is inflated', async () => {
    const entries = torchEntries(pkl, { '0': f32([1, 2, 3, 4]) });
    entries[0] = { ...entries[0], data: noise(100_000), method: 8, size: 100_000_000 };
    await refused(write(makeZip(entries)), 'unsafe', /over the 67108864-byte limit for a state_dict pickle/);
  });

  it('a bomb entry the pickle does not reference is never inflated', async () => {
    const entries = torchEntries(pkl, { '0': f32([1, 2, 3, 4]) });
    // Declares 1 GiB but holds noise: inflating it would fail (or allocate 1 GiB) if it were read.
    entries.push({ name: 'archive/data/bomb', data: noise(1_000_000), method: 8, size: 2 ** 30 });
    const dict = await readStateDict(write(makeZip(entries)));
    expect([...dict.keys()]).toEqual(['w']);
    expect([...dict.get('w')!.data]).toEqual([1, 2, 3, 4]);
  });

  it('broadcast (stride-0) views that would expand 16 bytes of storage into 4 GiB', async () => {
    const view = (name: string): TensorSpec => ({ name, key: '0', numel: 4, size: [2 ** 14, 2 ** 15], stride: [0, 0] });
    const file = write(archive(stateDictPickle([view('a'), view('b')])));
    const started = performance.now();
    await refused(file, 'unsafe', /expand 16 bytes of storage into 4294967296 bytes .*refused/, [readStateDict]);
    expect(performance.now() - started).toBeLessThan(2000);
    // Inspection reads no values, so it has nothing to expand: it lists the views.
    expect((await readStateDictIndex(file)).map((t) => t.shape)).toEqual([
      [2 ** 14, 2 ** 15],
      [2 ** 14, 2 ** 15],
    ]);
  });

  it('a few views sharing one storage (tied weights) are still read', async () => {
    const dict = await readStateDict(
      write(archive(stateDictPickle([goodTensor, { ...goodTensor, name: 'tied' }, { ...goodTensor, name: 'row', size: [2], stride: [2] }]))),
    );
    expect([...dict.get('tied')!.data]).toEqual([1, 2, 3, 4]);
    expect([...dict.get('row')!.data]).toEqual([1, 3]);
  });
});

describe('reports corrupt and unexpected files as ModelFileError', () => {
  it('not a zip, an empty file, a legacy torch pickle', async () => {
    await refused(write(Buffer.from('hello, I am not a model\n'.repeat(10))), 'corrupt', /expected a zip archive/);
    await refused(write(new Uint8Array(0)), 'corrupt', /expected a zip archive .* an empty file/);
    await refused(write(Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8])), 'corrupt', /legacy torch\.save format/);
  });

  it('a missing file', async () => {
    await refused(join(dir, 'does-not-exist.pt'), 'corrupt', /cannot open/);
  });

  it('an archive without data.pkl', async () => {
    await refused(
      write(makeZip([{ name: 'archive/weights.bin', data: f32([1]) }])),
      'corrupt',
      /expected a PyTorch archive with an entry '<name>\/data\.pkl', found entries: archive\/weights\.bin/,
    );
  });

  it('a pickle that is not a dict of tensors', async () => {
    const list = new PickleWriter().proto(2).emptyList().stop().bytes();
    await refused(write(archive(list)), 'corrupt', /found a list/);
    const w = new PickleWriter().proto(2).emptyDict().str('epoch').int(3).setitem().str('model_state_dict');
    w.global('collections', 'OrderedDict').emptyTuple().reduce().str('w');
    writeTensor(w, goodTensor).setitem().setitem().stop();
    await refused(
      write(archive(w.bytes())),
      'corrupt',
      /key 'epoch' holding a int \(this looks like a checkpoint; its key 'model_state_dict' holds a state_dict\)/,
    );
    const intKey = new PickleWriter().proto(2).emptyDict().int(1).int(2).setitem().stop().bytes();
    await refused(write(archive(intKey)), 'corrupt', /string keys/);
  });

  it('a pickle cut short', async () => {
    const pkl = stateDictPickle([goodTensor]);
    for (const n of [0, 1, 3, 10, pkl.length - 1]) {
      await refused(write(archive(pkl.subarray(0, n))), 'corrupt');
    }
  });
});

describe('damaged copies of a real checkpoint', () => {
  const original = readFileSync(real80);

  it('truncated at many lengths', async () => {
    for (const n of [0, 10, 100, 9000, original.length >> 1, original.length - 200, original.length - 23, original.length - 1]) {
      await refused(write(original.subarray(0, n)), 'corrupt');
    }
  });

  it('with random bytes of data.pkl corrupted (CRC catches it)', async () => {
    const dataAt = 30 + original.readUInt16LE(26) + original.readUInt16LE(28);
    const pklLen = original.readUInt32LE(original.indexOf(Buffer.from('PK\x01\x02', 'latin1')) + 24);
    for (let trial = 0; trial < 10; trial++) {
      const copy = Buffer.from(original);
      copy[dataAt + ((trial * 911) % pklLen)] ^= 1 + trial;
      await refused(write(copy), 'corrupt', /CRC-32 mismatch/);
    }
  });

  it('with data.pkl corrupted and re-zipped with a matching CRC: never a raw error, never code', async () => {
    // data.pkl is the first entry; mutate it in place and fix its CRC in both headers.
    const dataAt = 30 + original.readUInt16LE(26) + original.readUInt16LE(28);
    const pklLen = original.readUInt32LE(original.indexOf(Buffer.from('PK\x01\x02', 'latin1')) + 24);
    const cdAt = original.indexOf(Buffer.from('PK\x01\x02', 'latin1'));
    expect(original[dataAt]).toBe(0x80);
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    let accepted = 0;
    const file = join(dir, 'fuzz.pt');
    for (let trial = 0; trial < 300; trial++) {
      const bad = Buffer.from(original);
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) bad[dataAt + Math.floor(rand() * pklLen)] = Math.floor(rand() * 256);
      const crc = crc32(bad.subarray(dataAt, dataAt + pklLen));
      bad.writeUInt32LE(crc, cdAt + 16);
      writeFileSync(file, bad);
      for (const read of [readStateDictIndex, readStateDict]) {
        try {
          await read(file);
          if (read === readStateDict) accepted++;
        } catch (error) {
          expect(MetaSpliceAIError.isInstance(error), String(error)).toBe(true);
          expect([ModelFileError.code, UnsafeModelFileError.code]).toContain((error as MetaSpliceAIError).code);
          expect((error as Error).message).toContain(file);
          // Every failure is one the reader anticipated, not a wrapped internal exception.
          expect((error as Error).message).not.toMatch(/unexpected failure/);
        }
      }
    }
    // Some mutations only change a name or a number; most must be refused.
    expect(accepted).toBeLessThan(300);
  });
});

describe('pickle VM bounds (unit)', () => {
  const opts = (limits: Partial<PickleLimits>) => ({ file: '/x/model.pt', where: 'archive/data.pkl', resolveGlobal: () => undefined, limits });
  const run = (pkl: Uint8Array, limits: Partial<PickleLimits> = {}) => {
    try {
      return unpickle(pkl, opts(limits));
    } catch (error) {
      return error;
    }
  };

  it('caps the stack, the memo, MARK depth and container growth', () => {
    const pushes = new PickleWriter().proto(2);
    for (let i = 0; i < 50; i++) pushes.raw(0x4e);
    expect(UnsafeModelFileError.isInstance(run(pushes.stop().bytes(), { maxStack: 20 }))).toBe(true);

    const memo = new PickleWriter().proto(2).raw(0x4e);
    for (let i = 0; i < 50; i++) memo.raw(0x71, i);
    expect(UnsafeModelFileError.isInstance(run(memo.stop().bytes(), { maxMemo: 20 }))).toBe(true);

    // One list appended to itself through the memo: each APPEND adds a reference, never a copy.
    const grow = new PickleWriter().proto(2).emptyList().raw(0x71, 0);
    for (let i = 0; i < 50; i++) grow.raw(0x68, 0, 0x61);
    const error = run(grow.stop().bytes(), { maxItems: 20 });
    expect(UnsafeModelFileError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/\/x\/model\.pt: archive\/data\.pkl byte \d+: the pickle builds more than 20 container elements/);
  });

  it('decodes the data opcodes it supports', () => {
    const w = new PickleWriter().proto(2).mark();
    w.raw(0x8a, 2, 0x00, 0x80); // LONG1 -32768
    w.raw(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1); // LONG1 2^64
    w.raw(0x4a, 0xff, 0xff, 0xff, 0xff); // BININT -1
    w.raw(0x47, ...Buffer.from([0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18])); // BINFLOAT pi
    w.raw(0x43, 2, 7, 8); // SHORT_BINBYTES
    w.raw(0x88, 0x4e).shortStr('é');
    w.raw(0x6c); // LIST
    expect(run(w.stop().bytes())).toEqual([-32768, 2n ** 64n, -1, Math.PI, Uint8Array.from([7, 8]), true, null, 'é']);
  });
});
