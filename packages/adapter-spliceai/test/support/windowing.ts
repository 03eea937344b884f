import { encodeSequence } from '@metaspliceai/core';

/**
 * The reference tools' windowing, kept tiny and local so the runtime is tested on its own: pad
 * context/2 N (code 0) each side, cut ceil(len/5000) tiles of 5000 + context inputs stepping by
 * 5000, zero-pad the last. Tiles of several sequences go into one batch.
 */
export const STEP = 5000;

export interface Tiled {
  codes: Uint8Array;
  batch: number;
  length: number;
  /** For each sequence: its first tile and its length. */
  spans: { first: number; tiles: number; length: number }[];
}

export function tile(sequences: string[], context: number): Tiled {
  const length = STEP + context;
  const half = context / 2;
  const spans: Tiled['spans'] = [];
  let batch = 0;
  for (const seq of sequences) {
    const tiles = Math.ceil(seq.length / STEP);
    spans.push({ first: batch, tiles, length: seq.length });
    batch += tiles;
  }
  const codes = new Uint8Array(batch * length); // zeros = N
  sequences.forEach((seq, s) => {
    const encoded = encodeSequence(seq.toUpperCase());
    const { first, tiles } = spans[s]!;
    for (let t = 0; t < tiles; t++) {
      // Tile t covers padded positions [t*STEP, t*STEP + length); the sequence starts at `half`.
      const base = (first + t) * length;
      for (let i = 0; i < length; i++) {
        const p = t * STEP + i - half;
        if (p >= 0 && p < encoded.length) codes[base + i] = encoded[p]!;
      }
    }
  });
  return { codes, batch, length, spans };
}

/** Concatenates each sequence's tile outputs (STEP x 3 each) and trims to its length. */
export function untile(output: Float32Array, tiled: Tiled): Float32Array[] {
  return tiled.spans.map(({ first, length }) => output.slice(first * STEP * 3, first * STEP * 3 + length * 3));
}
