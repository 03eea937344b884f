/**
 * Tensor element types: the torch storage classes a state_dict names, their sizes, and how raw
 * storage bytes become typed arrays (without a copy where alignment and byte order allow).
 */

/** Element types the reader returns. */
export type TensorDtype = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** Typed arrays a tensor's `data` can be (float16 comes back as Float32Array). */
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** A storage's elements as stored: float16 stays raw bits (Uint16Array) until converted. */
export type StorageArray = TensorData | Uint16Array;

/** `torch.<Name>Storage` → element type and bytes per element. */
export const STORAGE_TYPES: ReadonlyMap<string, { dtype: TensorDtype; itemSize: number }> = new Map([
  ['FloatStorage', { dtype: 'float32', itemSize: 4 }],
  ['DoubleStorage', { dtype: 'float64', itemSize: 8 }],
  ['HalfStorage', { dtype: 'float16', itemSize: 2 }],
  ['LongStorage', { dtype: 'int64', itemSize: 8 }],
  ['IntStorage', { dtype: 'int32', itemSize: 4 }],
  ['ShortStorage', { dtype: 'int16', itemSize: 2 }],
  ['CharStorage', { dtype: 'int8', itemSize: 1 }],
  ['ByteStorage', { dtype: 'uint8', itemSize: 1 }],
  ['BoolStorage', { dtype: 'bool', itemSize: 1 }],
] as const);

type ArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): StorageArray; BYTES_PER_ELEMENT: number };

const STORAGE_CTOR: Record<TensorDtype, ArrayCtor> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/** True on little-endian hosts (all platforms Node ships for, in practice). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The first `numel` elements of `bytes` as a typed array. A view when the bytes are aligned and in
 * host byte order; otherwise a copy (byte-swapped when the file's order differs from the host's).
 */
export function storageArray(bytes: Uint8Array, dtype: TensorDtype, numel: number, littleEndian: boolean): StorageArray {
  const Ctor = STORAGE_CTOR[dtype];
  const size = Ctor.BYTES_PER_ELEMENT;
  let src = bytes.subarray(0, numel * size);
  if (size > 1 && littleEndian !== HOST_LITTLE_ENDIAN) {
    src = copyOf(src);
    for (let i = 0; i < src.length; i += size) src.subarray(i, i + size).reverse();
  } else if (src.byteOffset % size !== 0) {
    src = copyOf(src);
  }
  return new Ctor(src.buffer, src.byteOffset, numel);
}

/** A fresh copy (`Buffer#slice` would return a view). */
function copyOf(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

/** IEEE half-precision bits → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Half-precision bits → Float32Array (always a new array). */
export function halfArrayToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfToFloat(bits[i]);
  return out;
}
