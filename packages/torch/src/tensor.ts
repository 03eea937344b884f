/**
 * Tensor layouts: checking that a (offset, size, stride) view stays inside its storage before any
 * element is touched, and turning such a view into a contiguous row-major array.
 */
import type { StorageArray } from './dtypes.js';

/** Most dimensions a tensor may have (torch allows 64). */
export const MAX_DIMS = 64;

/** A view into a storage, as `_rebuild_tensor_v2` describes it. */
export interface Layout {
  offset: number;
  shape: readonly number[];
  stride: readonly number[];
}

/** Number of elements in `shape` (1 for a 0-d tensor). */
export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Why `layout` does not fit a storage of `storageNumel` elements, or undefined when it does.
 * Every element it reaches must lie in [0, storageNumel); negative strides are refused.
 */
export function layoutProblem(layout: Layout, storageNumel: number, maxNumel: number): string | undefined {
  const { offset, shape, stride } = layout;
  if (shape.length !== stride.length) return `size has ${shape.length} dimensions but stride has ${stride.length}`;
  if (shape.length > MAX_DIMS) return `${shape.length} dimensions, over the limit of ${MAX_DIMS}`;
  const nat = (v: number) => Number.isSafeInteger(v) && v >= 0;
  if (!nat(offset)) return `storage offset ${offset} is not a non-negative integer`;
  if (!shape.every(nat)) return `size [${shape.join(', ')}] has an entry that is not a non-negative integer`;
  if (!stride.every(nat)) return `stride [${stride.join(', ')}] has an entry that is not a non-negative integer`;
  const numel = numelOf(shape);
  if (numel > maxNumel) return `size [${shape.join(', ')}] has ${numel} elements, over the limit of ${maxNumel}`;
  if (numel === 0) return offset <= storageNumel ? undefined : `storage offset ${offset} is past the storage's ${storageNumel} elements`;
  let last = offset;
  for (let i = 0; i < shape.length; i++) last += (shape[i] - 1) * stride[i];
  if (last >= storageNumel) {
    return `offset ${offset}, size [${shape.join(', ')}], stride [${stride.join(', ')}] reach element ${last}, but the storage holds ${storageNumel}`;
  }
  return undefined;
}

/** True when `layout` is plain row-major (dimensions of size 1 may have any stride). */
export function isContiguous(layout: Layout): boolean {
  let expected = 1;
  for (let i = layout.shape.length - 1; i >= 0; i--) {
    if (layout.shape[i] !== 1 && layout.stride[i] !== expected) return false;
    expected *= layout.shape[i];
  }
  return true;
}

/**
 * The elements of an already-checked `layout` over `storage`, row-major. A contiguous view comes
 * back as a subarray (sharing memory with the storage, as tensors sharing a storage do in
 * PyTorch); any other layout is gathered into a new array.
 */
export function gather<T extends StorageArray>(storage: T, layout: Layout): T {
  const numel = numelOf(layout.shape);
  if (numel === 0) return storage.subarray(0, 0) as T;
  if (isContiguous(layout)) return storage.subarray(layout.offset, layout.offset + numel) as T;
  const { shape, stride } = layout;
  const out = new (storage.constructor as new (n: number) => T)(numel);
  const src = storage as unknown as ArrayLike<number | bigint>;
  const dst = out as unknown as { [i: number]: number | bigint };
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  let at = layout.offset;
  for (let k = 0; k < numel; k++) {
    dst[k] = src[at];
    // Odometer step over the dimensions, last one fastest.
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      at += stride[d];
      if (idx[d] < shape[d]) break;
      at -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}
