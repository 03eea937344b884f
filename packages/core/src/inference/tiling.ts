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
 * Runs a model over `outputLength` positions whose inputs come from `source`, in tiles of at most
 * `tileSize` outputs (see `tileLengths`) and batches of `batchSize` tiles, yielding one chunk per
 * batch so a whole chromosome runs in bounded memory.
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
  const lengths = tileLengths(outputLength, context, tileSize, batchSize);
  let offset = 0;
  for (let first = 0; first < lengths.length; ) {
    // A batch: up to batchSize consecutive tiles of one length.
    const tile = lengths[first];
    let count = 1;
    while (count < batchSize && lengths[first + count] === tile) count++;
    const inputLength = tile + context;
    const codes = new Uint8Array(count * inputLength);
    for (let t = 0; t < count; t++) {
      const start = offset + t * tile;
      codes.set(await source(start, start + inputLength), t * inputLength);
    }
    const out = await model.predict({ codes, batch: count, length: inputLength });
    const length = Math.min(count * tile, outputLength - offset);
    yield { offset, probabilities: length * 3 === out.length ? out : out.subarray(0, length * 3), length };
    offset += count * tile;
    first += count;
  }
}

/**
 * The tile length for a short sequence: the full tile, or its length rounded up to a step of a
 * tenth of the context, so that records of similar length share a tile length (and so a
 * `predict` call) while the padding wastes at most ~10% of the work, which context dominates.
 */
export function tileLengthFor(outputLength: number, context: number, tileSize: number): number {
  const step = Math.max(32, Math.ceil(context / 10));
  return Math.min(tileSize, Math.ceil(outputLength / step) * step);
}

/**
 * The output lengths of a sequence's tiles, in order. One that fits a tile gets one (of
 * `tileLengthFor`, so short records share batches). A longer one runs in whole batches of
 * `tileSize` tiles, then what is left in one batch of equal smaller tiles, at least two: a batch
 * of one tile runs on one core (onnxruntime splits a convolution over the batch), and shrinking
 * every tile to fill the batches instead would make the peak memory of a 100 kb input smaller
 * than a chromosome's. The numbers do not depend on the tiles.
 */
export function tileLengths(outputLength: number, context: number, tileSize: number, batchSize: number): number[] {
  if (outputLength <= tileSize) return [tileLengthFor(outputLength, context, tileSize)];
  const full = Math.floor(outputLength / (tileSize * batchSize)) * batchSize;
  const lengths = Array<number>(full).fill(tileSize);
  const rest = outputLength - full * tileSize;
  if (rest > 0) {
    const count = Math.min(batchSize, Math.max(2, Math.ceil(rest / tileSize)));
    const tile = tileLengthFor(Math.ceil(rest / count), context, tileSize);
    lengths.push(...Array<number>(Math.ceil(rest / tile)).fill(tile));
  }
  return lengths;
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
