/**
 * Tensor layouts a SpliceAI-family ONNX model may take and give, and the conversions between them and
 * the `(batch, positions, 3)` rows that `LoadedModel.predict` returns. Graphs from
 * `SpliceGraphBuilder` use `NC1L`; files users export from PyTorch are usually `NCL`; TensorFlow
 * exports are `NLC`.
 */
import { oneHotChannelsFirst, oneHotChannelsLast } from '@metaspliceai/core';

/**
 * `NC1L`: `(N, C, 1, L)`, the height-1 Conv2d form this package emits. `NCL`: `(N, C, L)`,
 * channels-first (PyTorch Conv1d). `NLC`: `(N, L, C)`, channels-last (Keras/TensorFlow).
 * `N1LC`: `(N, 1, L, C)`, an NHWC form some converters produce (outputs only).
 */
export type TensorLayout = 'NC1L' | 'NCL' | 'NLC' | 'N1LC';

/** Input layouts `predict` can feed. */
export type InputLayout = Exclude<TensorLayout, 'N1LC'>;

/**
 * Guesses an input layout from a declared shape (numbers for fixed dims, strings for symbolic ones):
 * the axis that is fixed at `channels` is the channel axis. Undefined when the shape does not say.
 */
export function inputLayoutFromShape(shape: readonly (number | string)[], channels = 4): InputLayout | undefined {
  const is = (i: number, n: number): boolean => shape[i] === n;
  if (shape.length === 4 && is(1, channels) && is(2, 1)) return 'NC1L';
  if (shape.length === 3) {
    if (is(1, channels) && !is(2, channels)) return 'NCL';
    if (is(2, channels) && !is(1, channels)) return 'NLC';
  }
  return undefined;
}

/** The index of the length axis in a layout (batch is always axis 0), for fixed-size checks. */
export function lengthAxis(layout: TensorLayout): number {
  return layout === 'NC1L' ? 3 : layout === 'NCL' ? 2 : layout === 'NLC' ? 1 : 2;
}

/**
 * Reads the layout of an actual output tensor from its dims: the axis of size `classes` is the class
 * axis. When both candidate axes have that size (an output length equal to the class count), the
 * input's convention (channels-first or last) breaks the tie.
 */
export function outputLayoutFromDims(
  dims: readonly number[],
  classes: number,
  channelsFirstInput: boolean,
): { layout: TensorLayout; length: number } | undefined {
  if (dims.length === 4) {
    const cf = dims[1] === classes && dims[2] === 1;
    const cl = dims[1] === 1 && dims[3] === classes;
    if (cf && (!cl || channelsFirstInput)) return { layout: 'NC1L', length: dims[3] };
    if (cl) return { layout: 'N1LC', length: dims[2] };
    return undefined;
  }
  if (dims.length === 3) {
    const cf = dims[1] === classes;
    const cl = dims[2] === classes;
    if (cf && (!cl || channelsFirstInput)) return { layout: 'NCL', length: dims[2] };
    if (cl) return { layout: 'NLC', length: dims[1] };
  }
  return undefined;
}

/** One-hot `(batch, 4, [1,] length)` or `(batch, length, 4)` from nucleotide codes. */
export function oneHotFor(layout: InputLayout, codes: Uint8Array, batch: number, length: number): Float32Array {
  return layout === 'NLC' ? oneHotChannelsLast(codes, batch, length) : oneHotChannelsFirst(codes, batch, length);
}

/**
 * Copies positions `[start, start + count)` of each batch row of an output tensor into
 * `(batch, count, classes)` row-major, optionally applying a softmax over the classes (for models
 * whose graph ends in logits).
 */
export function toPositionRows(
  data: Float32Array,
  layout: TensorLayout,
  batch: number,
  classes: number,
  length: number,
  start: number,
  count: number,
  softmax: boolean,
): Float32Array {
  const out = new Float32Array(batch * count * classes);
  const channelsFirst = layout === 'NC1L' || layout === 'NCL';
  for (let b = 0; b < batch; b++) {
    const base = b * classes * length;
    for (let j = 0; j < count; j++) {
      const p = start + j;
      const o = (b * count + j) * classes;
      for (let c = 0; c < classes; c++) {
        out[o + c] = channelsFirst ? data[base + c * length + p] : data[base + p * classes + c];
      }
      if (softmax) softmaxInPlace(out, o, classes);
    }
  }
  return out;
}

function softmaxInPlace(v: Float32Array, offset: number, n: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, v[offset + i]);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(v[offset + i] - max);
    v[offset + i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) v[offset + i] /= sum;
}
