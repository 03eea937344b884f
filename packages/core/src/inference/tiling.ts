import type { LoadedModel } from '../adapter/contract.js';
import { InvalidArgumentError } from '../errors.js';

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
  /** `(length, 3)` row-major probabilities, classes [neither, acceptor, donor]. */
  probabilities: Float32Array;
  length: number;
}

/**
 * Runs a model over `outputLength` positions whose inputs come from `source`, in tiles of
 * `tileSize` outputs and batches of `batchSize` tiles, yielding one chunk per batch so a whole
 * chromosome runs in bounded memory.
 */
export async function* predictTiles(
  model: LoadedModel,
  source: CodeSource,
  outputLength: number,
  options: TilingOptions = {},
): AsyncGenerator<PredictedChunk> {
  const tileSize = options.tileSize ?? REFERENCE_TILE;
  const batchSize = options.batchSize ?? 4;
  if (!Number.isInteger(tileSize) || tileSize < 1) throw new InvalidArgumentError(`tileSize must be a positive integer, got ${tileSize}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidArgumentError(`batchSize must be a positive integer, got ${batchSize}`);
  if (outputLength <= 0) return;
  const context = model.context;
  const tile = evenTileSize(outputLength, tileSize, batchSize);
  const tiles = Math.ceil(outputLength / tile);
  const inputLength = tile + context;
  for (let first = 0; first < tiles; first += batchSize) {
    const count = Math.min(batchSize, tiles - first);
    const codes = new Uint8Array(count * inputLength);
    for (let t = 0; t < count; t++) {
      const start = (first + t) * tile;
      codes.set(await source(start, start + inputLength), t * inputLength);
    }
    const out = await model.predict({ codes, batch: count, length: inputLength });
    const offset = first * tile;
    const length = Math.min(count * tile, outputLength - offset);
    yield { offset, probabilities: length * 3 === out.length ? out : out.subarray(0, length * 3), length };
  }
}

/**
 * Output positions per tile for a sequence of `outputLength`: at most `tileSize`, no more than the
 * sequence, and smaller only where that makes the tiles fill whole batches (so the peak memory of
 * a long sequence is that of full tiles, whatever its length). The
 * numbers do not depend on the tile size; a last batch of one tile ran at half the speed per
 * position of a full batch on onnxruntime.
 */
export function evenTileSize(outputLength: number, tileSize: number, batchSize: number): number {
  const needed = Math.ceil(outputLength / tileSize);
  if (needed <= batchSize || needed % batchSize === 0) return Math.min(tileSize, outputLength);
  return Math.ceil(outputLength / (Math.ceil(needed / batchSize) * batchSize));
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

/** Predicts every position of in-memory codes, N-padded as the reference tools pad. */
export async function predictCodes(model: LoadedModel, codes: Uint8Array, options: TilingOptions = {}): Promise<Float32Array> {
  const result = new Float32Array(codes.length * 3);
  for await (const chunk of predictTiles(model, paddedSource(codes, model.context), codes.length, options)) {
    result.set(chunk.probabilities, chunk.offset * 3);
  }
  return result;
}
