/**
 * Hand-assembles pickle bytes for tests (no Python): a small opcode writer, plus a builder for a
 * torch-style state_dict pickle whose pieces tests can bend into hostile shapes.
 */
import type { ZipInput } from './zip-writer.js';

/** Appends opcodes; every method returns `this` for chaining. */
export class PickleWriter {
  private readonly out: number[] = [];

  raw(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  private u32(n: number): this {
    return this.raw(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  proto(v = 2): this {
    return this.raw(0x80, v);
  }
  global(module: string, name: string): this {
    return this.raw(0x63, ...Buffer.from(`${module}\n${name}\n`, 'utf8'));
  }
  /** BINUNICODE. */
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.raw(0x58)
      .u32(b.length)
      .raw(...b);
  }
  shortStr(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.raw(0x8c, b.length, ...b);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >> 8);
    return this.raw(0x4a).u32(n);
  }
  mark(): this {
    return this.raw(0x28);
  }
  tuple(): this {
    return this.raw(0x74);
  }
  emptyTuple(): this {
    return this.raw(0x29);
  }
  tuple1(): this {
    return this.raw(0x85);
  }
  emptyDict(): this {
    return this.raw(0x7d);
  }
  emptyList(): this {
    return this.raw(0x5d);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  build(): this {
    return this.raw(0x62);
  }
  setitem(): this {
    return this.raw(0x73);
  }
  setitems(): this {
    return this.raw(0x75);
  }
  binpersid(): this {
    return this.raw(0x51);
  }
  newfalse(): this {
    return this.raw(0x89);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  /** A tuple of small ints (as torch writes sizes and strides). */
  ints(values: readonly number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

export interface TensorSpec {
  name: string;
  storageType?: string;
  key: string;
  numel: number;
  offset?: number;
  size: number[];
  stride?: number[];
  /** The storage's device tag (default `cpu`); a number writes a non-string tag, for hostile tests. */
  location?: string | number;
}

function contiguousStride(size: readonly number[]): number[] {
  const s = new Array<number>(size.length).fill(1);
  for (let i = size.length - 2; i >= 0; i--) s[i] = s[i + 1] * size[i + 1];
  return s;
}

/** Writes one `_rebuild_tensor_v2(...)` call onto `w` (as torch does). */
export function writeTensor(w: PickleWriter, t: TensorSpec): PickleWriter {
  w.global('torch._utils', '_rebuild_tensor_v2').mark();
  w.mark()
    .str('storage')
    .global('torch', t.storageType ?? 'FloatStorage')
    .str(t.key);
  if (typeof t.location === 'number') w.int(t.location);
  else w.str(t.location ?? 'cpu');
  w.int(t.numel).tuple().binpersid();
  w.int(t.offset ?? 0)
    .ints(t.size)
    .ints(t.stride ?? contiguousStride(t.size))
    .newfalse();
  w.global('collections', 'OrderedDict').emptyTuple().reduce();
  return w.tuple().reduce();
}

/** A torch-style `OrderedDict` state_dict pickle of `tensors`. */
export function stateDictPickle(tensors: readonly TensorSpec[]): Uint8Array {
  const w = new PickleWriter().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  for (const t of tensors) writeTensor(w.str(t.name), t);
  return w.setitems().stop().bytes();
}

/** Zip entries of a torch archive: `<prefix>/data.pkl`, `<prefix>/data/<key>`, byteorder, version. */
export function torchEntries(
  pkl: Uint8Array,
  storages: Record<string, Uint8Array>,
  options: { prefix?: string; byteorder?: string; method?: 0 | 8 } = {},
): ZipInput[] {
  const prefix = options.prefix ?? 'archive';
  const entries: ZipInput[] = [{ name: `${prefix}/data.pkl`, data: pkl, method: options.method }];
  entries.push({ name: `${prefix}/byteorder`, data: Buffer.from(options.byteorder ?? 'little') });
  for (const [key, data] of Object.entries(storages)) entries.push({ name: `${prefix}/data/${key}`, data, method: options.method });
  entries.push({ name: `${prefix}/version`, data: Buffer.from('3\n') });
  return entries;
}

/** Little-endian float32 bytes of `values`. */
export function f32(values: readonly number[]): Uint8Array {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
}
