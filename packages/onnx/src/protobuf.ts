/**
 * A minimal protocol-buffers wire-format writer and reader: just enough to emit and inspect ONNX
 * models without a protobuf library (no code generation, no runtime dependency, no .proto parsing).
 * Field numbers and types live in `onnx-proto.ts`; this file knows only the wire format.
 */

/** Protobuf wire types used by ONNX messages. */
export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  Fixed32: 5,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
const TWO_POW_64 = 1n << 64n;

/**
 * Appends fields to a growable buffer. Nested messages are written by encoding them first (a
 * separate writer) and then appending them as length-delimited bytes, which keeps the writer
 * trivial; models here are a few MB, so the extra copies are cheap.
 */
export class ProtoWriter {
  private buffer = new Uint8Array(256);
  private length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  /** Writes a raw varint (no tag). Negative values take the 10-byte two's-complement form of int64. */
  rawVarint(value: number | bigint): this {
    let v: bigint;
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new RangeError(`varint value ${value} is not a safe integer`);
      if (value >= 0 && value < 0x80) {
        this.reserve(1);
        this.buffer[this.length++] = value;
        return this;
      }
      v = BigInt(value);
    } else {
      v = value;
    }
    if (v < 0n) v += TWO_POW_64;
    if (v < 0n || v >= TWO_POW_64) throw new RangeError(`varint value ${value} does not fit in 64 bits`);
    this.reserve(10);
    while (v >= 0x80n) {
      this.buffer[this.length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buffer[this.length++] = Number(v);
    return this;
  }

  private tag(field: number, wireType: WireType): void {
    this.rawVarint(field * 8 + wireType);
  }

  /** A varint field (int32, int64, enum, bool). */
  varint(field: number, value: number | bigint): this {
    this.tag(field, WireType.Varint);
    return this.rawVarint(value);
  }

  /** A `float` field (fixed32, little-endian IEEE 754). */
  float(field: number, value: number): this {
    this.tag(field, WireType.Fixed32);
    this.reserve(4);
    new DataView(this.buffer.buffer, this.buffer.byteOffset + this.length, 4).setFloat32(0, value, true);
    this.length += 4;
    return this;
  }

  /** A `bytes` field, or an already-encoded nested message. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.LengthDelimited);
    this.rawVarint(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  /** A `string` field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  /** A nested message field. */
  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  /** A packed repeated varint field (`repeated int64 x = n [packed = true]`). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(v);
    return this.bytes(field, inner.finish());
  }

  /** The encoded bytes so far (a view; copy it before writing more if you keep it). */
  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

/** One field read off the wire; `value` depends on the wire type. */
export type ProtoField =
  | { field: number; wireType: typeof WireType.Varint; value: bigint }
  | { field: number; wireType: typeof WireType.LengthDelimited; value: Uint8Array }
  | { field: number; wireType: typeof WireType.Fixed32 | typeof WireType.Fixed64; value: Uint8Array };

/** Thrown on malformed wire data; callers turn it into a typed error that names the file. */
export class ProtoDecodeError extends Error {
  override name = 'ProtoDecodeError';
}

/**
 * Reads the top-level fields of one message, in order. Length-delimited values are subarrays of
 * `bytes` (no copy), so inspecting a large model does not duplicate its weights.
 */
export function* readFields(bytes: Uint8Array): Generator<ProtoField> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new ProtoDecodeError('truncated varint');
      const b = bytes[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new ProtoDecodeError('varint longer than 10 bytes');
    }
  };
  const take = (n: number): Uint8Array => {
    if (n < 0 || pos + n > bytes.length) throw new ProtoDecodeError(`field of ${n} bytes overruns the message`);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  while (pos < bytes.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0) throw new ProtoDecodeError('field number 0');
    switch (wireType) {
      case WireType.Varint:
        yield { field, wireType, value: varint() };
        break;
      case WireType.LengthDelimited:
        yield { field, wireType, value: take(Number(varint())) };
        break;
      case WireType.Fixed32:
        yield { field, wireType, value: take(4) };
        break;
      case WireType.Fixed64:
        yield { field, wireType, value: take(8) };
        break;
      default:
        throw new ProtoDecodeError(`unsupported wire type ${wireType} (field ${field})`);
    }
  }
}

/** Decodes a length-delimited field as UTF-8 text. */
export function decodeString(value: Uint8Array): string {
  return textDecoder.decode(value);
}

/** Decodes a packed repeated varint field (as written by `packedVarints`). */
export function decodePackedVarints(value: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let result = 0n;
  let shift = 0n;
  for (const b of value) {
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) {
      out.push(result >= 1n << 63n ? result - TWO_POW_64 : result);
      result = 0n;
      shift = 0n;
    } else {
      shift += 7n;
    }
  }
  if (shift !== 0n) throw new ProtoDecodeError('truncated packed varint');
  return out;
}

/** Interprets an int64 varint read by `readFields` as a signed JS number (ONNX ints fit in 53 bits). */
export function varintToNumber(value: bigint): number {
  return Number(value >= 1n << 63n ? value - TWO_POW_64 : value);
}
