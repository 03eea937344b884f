import { InvalidArgumentError, type LoadedModel } from '@metaspliceai/core';

/**
 * One model input: `codes` (nucleotide codes, already reverse-complemented for the minus strand)
 * and, once run, its `codes.length - context` output rows (of the model's tracks) in genome order.
 */
export interface Tile {
  codes: Uint8Array;
  /** The codes are a reverse complement: reverse the output rows back to genome order. */
  reverse: boolean;
  output?: Float32Array;
}

/**
 * Runs tiles of any lengths in few `predict` calls: sorted by length, `batchSize` at a time, each
 * padded with N at its end to the longest of its batch. Padding at the end changes no output of
 * the tile's own (an output sees only inputs within context/2 of it), so batching is exact.
 */
export async function runTiles(model: LoadedModel, tiles: readonly Tile[], batchSize: number, onBatch?: (done: number, total: number) => void): Promise<void> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidArgumentError(`batch size must be a positive integer, got ${batchSize}`);
  const context = model.context;
  const width = model.tracks.length;
  const order = [...tiles].sort((a, b) => b.codes.length - a.codes.length);
  for (const t of order)
    if (t.codes.length <= context) throw new InvalidArgumentError(`a tile of ${t.codes.length} nt is not longer than the context ${context}`);
  let done = 0;
  for (let first = 0; first < order.length; first += batchSize) {
    const batch = order.slice(first, first + batchSize);
    const length = batch[0].codes.length;
    const codes = new Uint8Array(batch.length * length);
    batch.forEach((t, b) => codes.set(t.codes, b * length));
    const out = await model.predict({ codes, batch: batch.length, length });
    const rowsPerTile = length - context;
    if (out.length !== batch.length * rowsPerTile * width) {
      throw new InvalidArgumentError(
        `the model returned ${out.length} values for ${batch.length} tiles of ${length} nt; expected ${batch.length * rowsPerTile * width} (${width} tracks)`,
      );
    }
    batch.forEach((t, b) => {
      const rows = t.codes.length - context;
      const own = out.slice(b * rowsPerTile * width, (b * rowsPerTile + rows) * width);
      t.output = t.reverse ? reverseRows(own, width) : own;
    });
    done += batch.length;
    onBatch?.(done, order.length);
  }
}

/** Reverses the rows of a `(rows, width)` array (default 3 tracks). */
export function reverseRows(values: Float32Array, width = 3): Float32Array {
  const rows = values.length / width;
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) out.set(values.subarray((rows - 1 - r) * width, (rows - r) * width), r * width);
  return out;
}
