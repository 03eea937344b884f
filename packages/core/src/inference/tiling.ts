import type { LoadedModel } from '../adapter/contract.js';
import { predictPacked } from './packing.js';

/**
 * Output positions per tile in the reference tools. Any tile size gives the same numbers (an
 * output depends only on inputs within context/2 of it); larger tiles waste less work on context.
 */
export const REFERENCE_TILE = 5000;

export interface TilingOptions {
  /** Output positions per tile (default REFERENCE_TILE). */
  tileSize?: number;
  /** Tiles per `predict` call (default 4). */
  batchSize?: number;
}

/**
 * Reads `padded` codes for a range of a padded sequence: position 0 is context/2 before the first
 * output. Ranges past the end must come back zero-filled (N).
 */
export type CodeSource = (start: number, end: number) => Uint8Array | Promise<Uint8Array>;

export interface PredictedChunk {
  /** Index of the first output position in this chunk. */
  offset: number;
  /** `(length, tracks)` row-major values, in the model's track order. */
  probabilities: Float32Array;
  length: number;
}

/**
 * Runs a model over `outputLength` positions whose inputs come from `source`, in tiles of at most
 * `tileSize` outputs (see `tileLengths`) and batches of `batchSize` tiles, yielding one chunk per
 * batch so a whole chromosome runs in bounded memory.
 */
export async function* predictTiles(model: LoadedModel, source: CodeSource, outputLength: number, options: TilingOptions = {}): AsyncGenerator<PredictedChunk> {
  const packing = { tileSize: options.tileSize ?? REFERENCE_TILE, batchSize: options.batchSize ?? 4 };
  const job = { tag: 0, outputLength: Math.max(outputLength, 0), source };
  for await (const { offset, probabilities, length } of predictPacked(model, [job], packing)) {
    if (length > 0) yield { offset, probabilities, length };
  }
}

/** A CodeSource over codes held in memory, N-padded by context/2 on each side. */
export function paddedSource(codes: Uint8Array, context: number): CodeSource {
  const half = context / 2;
  return (start, end) => {
    const out = new Uint8Array(end - start);
    const from = Math.max(start - half, 0);
    const to = Math.min(end - half, codes.length);
    if (to > from) out.set(codes.subarray(from, to), from - (start - half));
    return out;
  };
}

/** Predicts every position of in-memory codes, N-padded as the reference tools pad: `(length, tracks)` rows. */
export async function predictCodes(model: LoadedModel, codes: Uint8Array, options: TilingOptions = {}): Promise<Float32Array> {
  const width = model.tracks.length;
  const result = new Float32Array(codes.length * width);
  for await (const chunk of predictTiles(model, paddedSource(codes, model.context), codes.length, options)) {
    result.set(chunk.probabilities, chunk.offset * width);
  }
  return result;
}
