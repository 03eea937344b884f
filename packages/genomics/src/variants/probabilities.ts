import { encodeVariantSequence, InvalidArgumentError, type LoadedModel, reverseComplementCodes, type VariantEncoding } from '@metaspliceai/core';
import type { TranscriptHit } from '../annotations/lookup.js';
import type { FastaReader } from '../io/fasta.js';
import type { DeltaScores } from './delta.js';
import { runTiles, type Tile } from './tiles.js';

/**
 * The ALT rows lined up with the REF rows POS-dist..POS+dist, as SpliceAI's `get_delta_scores`
 * lines them up before taking deltas: a deletion gets `refLength-1` zero rows after row `dist+1`,
 * an insertion the per-class maximum over its `altLength` rows. `(2*dist+1, 3)`, genome order.
 * The bw2 fork of SpliceAI (and SpliceAI-lookup) reports REF and ALT probabilities from these rows.
 */
export function alignAltRows(alt: Float32Array, refLength: number, altLength: number, dist: number): Float32Array {
  const cov = 2 * dist + 1;
  const deletion = refLength > 1 && altLength === 1;
  const insertion = refLength === 1 && altLength > 1;
  const expected = deletion ? cov - (refLength - 1) : insertion ? cov + altLength - 1 : cov;
  if (alt.length !== expected * 3) throw new InvalidArgumentError(`alt has ${alt.length / 3} rows, expected ${expected}`);
  if (!deletion && !insertion) return alt;
  const out = new Float32Array(cov * 3);
  const del = refLength - 1;
  const head = Math.min(dist + 1, expected);
  for (let r = 0; r < cov; r++) {
    for (let c = 0; c < 3; c++) {
      let v: number;
      if (deletion) v = r < head ? alt[r * 3 + c] : r < head + del ? 0 : alt[(r - del) * 3 + c];
      else if (r < dist) v = alt[r * 3 + c];
      else if (r === dist) {
        v = alt[dist * 3 + c];
        for (let k = 1; k < altLength; k++) v = Math.max(v, alt[(dist + k) * 3 + c]);
      } else v = alt[(r + altLength - 1) * 3 + c];
      out[r * 3 + c] = v;
    }
  }
  return out;
}

/** REF and ALT probabilities at the four delta positions, in `DELTA_EVENTS` order (acceptor, acceptor, donor, donor). */
export interface DeltaProbabilities {
  ref: [number, number, number, number];
  alt: [number, number, number, number];
}

/**
 * The bw2 fork's `DS_AG_REF, DS_AG_ALT, ...`: the REF and ALT probability of the event's class at
 * each event's position (`DP_*`). `ref` and `aligned` are `(2*dist+1, 3)` rows (see `alignAltRows`).
 */
export function deltaProbabilities(delta: DeltaScores, ref: Float32Array, aligned: Float32Array, dist: number): DeltaProbabilities {
  const channels = [1, 1, 2, 2];
  const out: DeltaProbabilities = { ref: [0, 0, 0, 0], alt: [0, 0, 0, 0] };
  for (let k = 0; k < 4; k++) {
    const at = (delta.positions[k] + dist) * 3 + channels[k];
    out.ref[k] = ref[at];
    out.alt[k] = aligned[at];
  }
  return out;
}

export interface ReferenceRowsInput {
  model: LoadedModel;
  fasta: FastaReader;
  /** The FASTA's own name of the contig. */
  fastaName: string;
  hit: TranscriptHit;
  /** 1-based position the rows are centred on. */
  pos: number;
  dist: number;
  encoding: VariantEncoding;
}

/**
 * The reference rows POS-dist..POS+dist of one transcript, `(2*dist+1, 3)` in genome order, with
 * the genome outside the transcript (and the contig) read as N, as SpliceAI pads its windows:
 * the REF half of a delta score, for a position with no ALT (SpliceAI-lookup's REF-only query).
 */
export async function predictReferenceRows(input: ReferenceRowsInput): Promise<Float32Array> {
  const { model, fasta, fastaName, hit, pos, dist } = input;
  const half = model.context / 2;
  const from = pos - dist - half;
  const to = pos + dist + half;
  const codes = new Uint8Array(to - from + 1);
  const length = (await fasta.length(fastaName)) ?? 0;
  const lo = Math.max(from, hit.row.txStart + 1, 1);
  const hi = Math.min(to, hit.row.txEnd, length);
  if (lo <= hi) codes.set(encodeVariantSequence(await fasta.fetch(fastaName, lo - 1, hi), input.encoding), lo - from);
  const reverse = hit.row.strand === '-';
  const tile: Tile = { codes: reverse ? reverseComplementCodes(codes) : codes, reverse };
  await runTiles(model, [tile], 1);
  return tile.output!;
}
