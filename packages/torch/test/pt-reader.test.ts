import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFileError, InvalidArgumentError } from '@metaspliceai/core';
import { readStateDict, readStateDictIndex, toFloat32, type StateDictTensor } from '../src/index.js';
import { f32, PickleWriter, stateDictPickle, torchEntries, writeTensor } from './helpers/pickle-writer.js';
import { makeZip } from './helpers/zip-writer.js';
import { MODELS_DIR } from '../../../test-support/shared.js';

const models = join(MODELS_DIR, 'openspliceai');

/** Every real .pt under the shared models folder, with its flank. */
function realFiles(): { file: string; flank: number }[] {
  const out: { file: string; flank: number }[] = [];
  for (const rel of readdirSync(models, { recursive: true, encoding: 'utf8' })) {
    const m = /^openspliceai-[^/]+\/(\d+)nt\/model_\d+nt_rs\d+\.pt$/.exec(rel.split(sep).join('/'));
    if (m) out.push({ file: join(models, rel), flank: Number(m[1]) });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

/** Sums of all float32 elements (float64 accumulation), computed with numpy from the raw entries. */
const REFERENCE: Record<string, { n: number; sum: number; abs: number }> = {
  'openspliceai-mane/10000nt/model_10000nt_rs10.pt': { n: 698787, sum: 8077.56757761784, abs: 72613.44588584121 },
  'openspliceai-mane/2000nt/model_2000nt_rs12.pt': { n: 360579, sum: 3945.338779191485, abs: 23992.3539223076 },
  'openspliceai-mane/400nt/model_400nt_rs14.pt': { n: 186211, sum: 958.5002618007537, abs: 16379.288888101873 },
  'openspliceai-mane/80nt/model_80nt_rs13.pt': { n: 93763, sum: -106.01852099114399, abs: 7978.426715461064 },
  'openspliceai-mouse/10000nt/model_10000nt_rs11.pt': { n: 698787, sum: 6056.513837524631, abs: 81390.53348028332 },
};

/** Residual units per flank: kernel sizes of the 4-unit groups (a 1x1 skip conv follows each group). */
const KERNELS: Record<number, number[]> = { 80: [11], 400: [11, 11], 2000: [11, 11, 21], 10000: [11, 11, 21, 41] };

const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);

describe('real OpenSpliceAI checkpoints', () => {
  const files = realFiles();

  it('finds all 25 checkpoints', () => {
    expect(files.length).toBe(25);
  });

  it('reads every checkpoint, and the index agrees with the full read', async () => {
    for (const { file, flank } of files) {
      const [index, dict] = await Promise.all([readStateDictIndex(file), readStateDict(file)]);
      const groups = KERNELS[flank].length;
      // initial conv + skip (4 tensors), 4 residual units of 14 tensors (2 BatchNorms of 5, 2 convs of 2) + one skip conv (2) per group, final conv (2).
      expect(index.length, file).toBe(4 + groups * (4 * 14 + 2) + 2);
      expect(index.map((t) => t.name)).toEqual([...dict.keys()]);
      for (const info of index) {
        const t = dict.get(info.name)!;
        expect(t.shape, info.name).toEqual(info.shape);
        expect(t.dtype).toBe(info.dtype);
        expect(t.data.length).toBe(info.shape.reduce((a, b) => a * b, 1));
        if (t.dtype === 'float32') expect((t.data as Float32Array).every(Number.isFinite), info.name).toBe(true);
      }
      expect(dict.get('initial_conv.weight')!.shape).toEqual([32, 4, 1]);
      expect(dict.get('final_conv.weight')!.shape).toEqual([3, 32, 1]);
    }
  });

  it('gives the expected layout for a 10000nt model', async () => {
    const file = join(models, 'openspliceai-mane/10000nt/model_10000nt_rs10.pt');
    const index = await readStateDictIndex(file);
    expect(index.length).toBe(238);
    const byName = new Map(index.map((t) => [t.name, t]));
    expect(byName.get('initial_conv.weight')).toEqual({ name: 'initial_conv.weight', dtype: 'float32', shape: [32, 4, 1] });
    expect(byName.get('initial_skip.conv.weight')!.shape).toEqual([32, 32, 1]);
    KERNELS[10000].forEach((k, g) => {
      for (let u = 0; u < 4; u++) {
        const unit = g * 5 + u;
        expect(byName.get(`residual_units.${unit}.conv1.weight`)!.shape).toEqual([32, 32, k]);
        expect(byName.get(`residual_units.${unit}.conv2.weight`)!.shape).toEqual([32, 32, k]);
        expect(byName.get(`residual_units.${unit}.batchnorm1.running_var`)!.shape).toEqual([32]);
        expect(byName.get(`residual_units.${unit}.batchnorm1.num_batches_tracked`)).toMatchObject({ dtype: 'int64', shape: [] });
      }
      expect(byName.get(`residual_units.${g * 5 + 4}.conv.weight`)!.shape).toEqual([32, 32, 1]);
    });
    expect(index.filter((t) => t.dtype === 'int64').length).toBe(32);
  });

  it('returns the values torch stored', async () => {
    const dict = await readStateDict(join(models, 'openspliceai-mane/10000nt/model_10000nt_rs10.pt'));
    const w = dict.get('initial_conv.weight')!;
    expect(w.data).toBeInstanceOf(Float32Array);
    expect(Array.from(w.data.slice(0, 3) as Float32Array)).toEqual([
      Math.fround(-0.3481453061103821),
      Math.fround(-0.0867496207356453),
      Math.fround(0.4313436448574066),
    ]);
    expect(sum(w.data as Float32Array)).toBeCloseTo(-6.709202241152525, 5);
    expect(Array.from(dict.get('final_conv.bias')!.data as Float32Array)).toEqual(
      [0.377656489610672, -0.33937308192253113, -0.2606376111507416].map(Math.fround),
    );
    expect(sum(dict.get('residual_units.0.batchnorm2.running_var')!.data as Float32Array)).toBeCloseTo(287.13482999801636, 3);
    const tracked = dict.get('residual_units.0.batchnorm1.num_batches_tracked')!;
    expect(tracked.data).toBeInstanceOf(BigInt64Array);
    expect(tracked.data[0]).toBe(134020n);
    // Running variances are positive; BatchNorm scales are moderate.
    for (const t of dict.values()) {
      if (t.name.endsWith('running_var')) expect((t.data as Float32Array).every((v) => v > 0)).toBe(true);
      if (t.dtype === 'float32') expect((t.data as Float32Array).every((v) => Math.abs(v) < 1e4)).toBe(true);
    }
  });

  it('matches float sums computed independently from the raw entries', async () => {
    for (const [rel, ref] of Object.entries(REFERENCE)) {
      const dict = await readStateDict(join(models, rel));
      let n = 0;
      let s = 0;
      let abs = 0;
      for (const t of dict.values()) {
        if (t.dtype !== 'float32') continue;
        n += t.data.length;
        for (const v of t.data as Float32Array) {
          s += v;
          abs += Math.abs(v);
        }
      }
      expect(n, rel).toBe(ref.n);
      expect(Math.abs(s - ref.sum), rel).toBeLessThan(1e-6 * ref.abs);
      expect(Math.abs(abs - ref.abs), rel).toBeLessThan(1e-6 * ref.abs);
    }
  });

  it('reads a 2.9 MB checkpoint in a few milliseconds', async () => {
    const file = join(models, 'openspliceai-mane/10000nt/model_10000nt_rs12.pt');
    await readStateDict(file); // warm up
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await readStateDict(file);
      times.push(performance.now() - t0);
    }
    const best = Math.min(...times);
    console.log(`readStateDict 10000nt: best ${best.toFixed(2)} ms of ${times.map((t) => t.toFixed(1)).join(', ')}`);
    expect(best).toBeLessThan(100);
  });

  describe('on copies in a temporary folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pt-reader-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads only the directory and pickle for the index (a corrupt tensor entry goes unnoticed there)', async () => {
      const src = join(models, 'openspliceai-mane/80nt/model_80nt_rs10.pt');
      const bytes = Buffer.from(readFileSync(src));
      // Flip a byte in the last tensor entry's data: the index does not read it, the full read must catch it.
      const name = Buffer.from('model_best/data/9');
      const at = bytes.indexOf(name) + name.length;
      const extra = bytes.readUInt16LE(bytes.indexOf(name) - 2);
      bytes[at + extra + 5] ^= 0xff;
      const file = join(dir, 'flipped.pt');
      writeFileSync(file, bytes);
      expect((await readStateDictIndex(file)).length).toBe(64);
      const error = await readStateDict(file).catch((e: unknown) => e);
      expect(ModelFileError.isInstance(error), String(error)).toBe(true);
      expect(String((error as Error).message)).toMatch(/CRC-32 mismatch/);
      expect((error as Error).message).toContain(file);
    });

    it('accepts a plain copy under another name', async () => {
      const file = join(dir, 'renamed.pth');
      copyFileSync(join(models, 'openspliceai-mane/80nt/model_80nt_rs11.pt'), file);
      expect((await readStateDict(file)).size).toBe(64);
    });
  });
});

describe('real Pangolin checkpoints (saved with cuda:0 storages)', () => {
  it('reads all 24, and the index agrees with the full read', async () => {
    const dir = join(MODELS_DIR, 'pangolin');
    const files = readdirSync(dir).filter((f) => /^final\.[1-3]\.[0-7]\.3\.v2$/.test(f));
    expect(files).toHaveLength(24);
    for (const f of files) {
      const index = await readStateDictIndex(join(dir, f));
      const dict = await readStateDict(join(dir, f));
      expect(index.map((t) => t.name)).toEqual([...dict.keys()]);
      expect(dict.get('conv1.weight')!.shape).toEqual([32, 4, 1]);
      expect(dict.get('resblocks.15.conv2.weight')!.shape).toEqual([32, 32, 41]);
    }
  });
});

describe('synthetic state dicts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pt-synth-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const write = (bytes: Uint8Array) => {
    const file = join(dir, `s${n++}.pt`);
    writeFileSync(file, bytes);
    return file;
  };

  it('honours strides and offsets, and shares memory for contiguous views', async () => {
    const storage = f32([0, 1, 2, 3, 4, 5, 6, 7]);
    const pkl = stateDictPickle([
      { name: 'a', key: '0', numel: 8, size: [2, 3] },
      { name: 'transposed', key: '0', numel: 8, size: [3, 2], stride: [1, 3] },
      { name: 'shifted', key: '0', numel: 8, offset: 2, size: [2, 2], stride: [3, 1] },
      { name: 'broadcast', key: '0', numel: 8, offset: 7, size: [2, 2], stride: [0, 0] },
      { name: 'scalar', key: '0', numel: 8, offset: 5, size: [] },
      { name: 'empty', key: '0', numel: 8, size: [0, 4] },
    ]);
    const file = write(makeZip(torchEntries(pkl, { '0': storage })));
    const d = await readStateDict(file);
    const vals = (k: string) => Array.from(d.get(k)!.data as Float32Array);
    expect(vals('a')).toEqual([0, 1, 2, 3, 4, 5]);
    expect(vals('transposed')).toEqual([0, 3, 1, 4, 2, 5]);
    expect(vals('shifted')).toEqual([2, 3, 5, 6]);
    expect(vals('broadcast')).toEqual([7, 7, 7, 7]);
    expect(vals('scalar')).toEqual([5]);
    expect(d.get('scalar')!.shape).toEqual([]);
    expect(vals('empty')).toEqual([]);
    expect(d.get('a')!.data.buffer).toBe(d.get('scalar')!.data.buffer);
    expect(await readStateDictIndex(file)).toEqual([...d.values()].map(({ name, dtype, shape }) => ({ name, dtype, shape })));
  });

  it('reads float16, float64, int and bool storages, deflated entries, a comment, and big-endian files', async () => {
    const half = Buffer.alloc(8);
    [0x3c00, 0xc000, 0x3555, 0x7c00].forEach((h, i) => half.writeUInt16LE(h, i * 2));
    const dbl = Buffer.alloc(16);
    dbl.writeDoubleLE(Math.PI, 0);
    dbl.writeDoubleLE(-1e300, 8);
    const ints = Buffer.alloc(12);
    [1, -2, 70000].forEach((v, i) => ints.writeInt32LE(v, i * 4));
    const specs = [
      { name: 'h', storageType: 'HalfStorage', key: 'h', numel: 4, size: [4] },
      { name: 'd', storageType: 'DoubleStorage', key: 'd', numel: 2, size: [2] },
      { name: 'i', storageType: 'IntStorage', key: 'i', numel: 3, size: [3] },
      { name: 'b', storageType: 'BoolStorage', key: 'b', numel: 2, size: [2] },
    ];
    const storages = { h: half, d: dbl, i: ints, b: Uint8Array.from([1, 0]) };
    const file = write(makeZip(torchEntries(stateDictPickle(specs), storages, { method: 8 }), { comment: 'a zip comment' }));
    const d = await readStateDict(file);
    const h = d.get('h') as StateDictTensor;
    expect(h.dtype).toBe('float16');
    expect(Array.from(h.data as Float32Array)).toEqual([1, -2, Math.fround(0.333251953125), Infinity]);
    expect(toFloat32(h)).toBe(h.data);
    expect(Array.from(d.get('d')!.data as Float64Array)).toEqual([Math.PI, -1e300]);
    expect(Array.from(toFloat32(d.get('d')!))).toEqual([Math.fround(Math.PI), -Infinity]);
    expect(Array.from(d.get('i')!.data as Int32Array)).toEqual([1, -2, 70000]);
    expect(d.get('b')).toMatchObject({ dtype: 'bool', shape: [2] });
    expect(() => toFloat32(d.get('i')!)).toThrow(InvalidArgumentError);

    // The same values written big-endian.
    const be = (b: Buffer, size: number) => {
      const c = Buffer.from(b);
      for (let i = 0; i < c.length; i += size) c.subarray(i, i + size).reverse();
      return c;
    };
    const beFile = write(makeZip(torchEntries(stateDictPickle(specs), { h: be(half, 2), d: be(dbl, 8), i: be(ints, 4), b: storages.b }, { byteorder: 'big' })));
    const bd = await readStateDict(beFile);
    for (const k of ['h', 'd', 'i', 'b']) expect(Array.from(bd.get(k)!.data as Float32Array)).toEqual(Array.from(d.get(k)!.data as Float32Array));
  });

  it('unwraps _rebuild_parameter and accepts an OrderedDict built with NEWOBJ', async () => {
    const w = new PickleWriter().proto(2).global('collections', 'OrderedDict').emptyTuple().raw(0x81).mark();
    w.str('p').global('torch._utils', '_rebuild_parameter').mark();
    writeTensor(w, { name: 'p', key: '0', numel: 2, size: [2] });
    w.newfalse().global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
    const file = write(makeZip(torchEntries(w.setitems().stop().bytes(), { '0': f32([0.5, -0.5]) })));
    const d = await readStateDict(file);
    expect(Array.from(d.get('p')!.data as Float32Array)).toEqual([0.5, -0.5]);
  });

  it('reads storages tagged cpu, cuda and cuda:<n> (GPU-saved checkpoints) into CPU memory', async () => {
    const locations = ['cpu', 'cuda', 'cuda:0', 'cuda:7', 'cuda:12'];
    const pkl = stateDictPickle(locations.map((location, k) => ({ name: `t${k}`, key: String(k), numel: 2, size: [2], location })));
    const storages = Object.fromEntries(locations.map((_, k) => [String(k), f32([k, -k])]));
    const d = await readStateDict(write(makeZip(torchEntries(pkl, storages))));
    locations.forEach((_, k) => expect(Array.from(d.get(`t${k}`)!.data as Float32Array)).toEqual([k, -k]));
  });

  it('accepts storage entries that are misaligned in the file', async () => {
    // A 3-byte entry before the storage shifts its data off 4-byte alignment.
    const entries = torchEntries(stateDictPickle([{ name: 'w', key: '0', numel: 3, size: [3] }]), { '0': f32([1.5, 2.5, 3.5]) }, { prefix: 'x' });
    entries.unshift({ name: 'pad', data: Uint8Array.from([1, 2, 3]) });
    const d = await readStateDict(write(makeZip(entries)));
    expect(Array.from(d.get('w')!.data as Float32Array)).toEqual([1.5, 2.5, 3.5]);
  });
});
