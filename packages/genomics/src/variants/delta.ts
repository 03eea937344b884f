import { InvalidArgumentError } from '@metaspliceai/core';
import { formatFixed } from './format.js';

/** The four SpliceAI events, in the order of the `SpliceAI` INFO field. */
export const DELTA_EVENTS = ['acceptor_gain', 'acceptor_loss', 'donor_gain', 'donor_loss'] as const;

/** Delta scores and positions of one (allele, gene) pair, in `DELTA_EVENTS` order. */
export interface DeltaScores {
  /** DS_AG, DS_AL, DS_DG, DS_DL: unrounded, masked ones are ±0. */
  scores: [number, number, number, number];
  /** DP_AG, DP_AL, DP_DG, DP_DL: offsets from POS (negative = upstream on the + strand). */
  positions: [number, number, number, number];
}

export interface DeltaInput {
  /** Reference probabilities of the `2*dist+1` positions POS-dist..POS+dist, `(cov, 3)`, genome order. */
  ref: Float32Array;
  /**
   * The model's output for the alternate window, genome order: `cov - (refLength - 1)` rows for a
   * deletion, `cov + altLength - 1` for an insertion, `cov` otherwise.
   */
  alt: Float32Array;
  refLength: number;
  altLength: number;
  dist: number;
  /** SpliceAI's `-M 1`: zero gains at the annotated boundary and losses elsewhere. */
  mask: boolean;
  /** POS's distance to the transcript's nearest exon boundary (SpliceAI's `dist_ann[2]`). */
  exonBoundaryDistance: number;
}

/**
 * SpliceAI's `get_delta_scores` after the model runs, step for step. A deletion puts
 * `refLength-1` zero rows after row `dist+1` of the alternate output; an insertion takes the
 * per-class maximum over its `altLength` rows. Deltas are float32 differences as upstream computes
 * them (float64 for deletions, where numpy promotes the zero rows); argmax takes the first index
 * (a NaN wins, as in numpy); masking multiplies the score by 0 and keeps the position.
 */
export function computeDeltaScores(input: DeltaInput): DeltaScores {
  const { ref, alt, refLength, altLength, dist } = input;
  const cov = 2 * dist + 1;
  const half = dist;
  if (ref.length !== cov * 3) throw new InvalidArgumentError(`ref has ${ref.length / 3} rows, expected ${cov}`);
  const deletion = refLength > 1 && altLength === 1;
  const insertion = refLength === 1 && altLength > 1;
  if (!(deletion || insertion || (refLength === 1 && altLength === 1))) {
    throw new InvalidArgumentError(`REF length ${refLength} with ALT length ${altLength} has no delta score (SpliceAI prints dots)`);
  }
  const expected = deletion ? cov - (refLength - 1) : insertion ? cov + altLength - 1 : cov;
  if (alt.length !== expected * 3) throw new InvalidArgumentError(`alt has ${alt.length / 3} rows, expected ${expected}`);

  // The alternate rows aligned to the reference rows (numpy's concatenate), channels 1 and 2.
  const aligned = new Float64Array(cov * 3);
  const del = refLength - 1;
  // numpy slicing: when a long deletion leaves fewer than dist+1 rows, all of them come first.
  const head = Math.min(half + 1, expected);
  for (let r = 0; r < cov; r++) {
    for (let c = 1; c < 3; c++) {
      let v: number;
      if (deletion) {
        if (r < head) v = alt[r * 3 + c];
        else if (r < head + del) v = 0;
        else v = alt[(r - del) * 3 + c];
      } else if (insertion) {
        if (r < half) v = alt[r * 3 + c];
        else if (r === half) {
          v = alt[half * 3 + c];
          for (let k = 1; k < altLength && !Number.isNaN(v); k++) {
            const w = alt[(half + k) * 3 + c];
            if (Number.isNaN(w) || w > v) v = w;
          }
        } else v = alt[(r + altLength - 1) * 3 + c];
      } else v = alt[r * 3 + c];
      aligned[r * 3 + c] = v;
    }
  }
  const diff = deletion ? (a: number, b: number) => a - b : (a: number, b: number) => Math.fround(a - b);
  const best = (channel: number, gain: boolean): [number, number] => {
    let idx = 0;
    let value = -Infinity;
    for (let r = 0; r < cov; r++) {
      const a = aligned[r * 3 + channel];
      const b = ref[r * 3 + channel];
      const d = gain ? diff(a, b) : diff(b, a);
      if (Number.isNaN(d)) return [r, d];
      if (d > value || r === 0) {
        value = d;
        idx = r;
      }
    }
    return [idx, value];
  };
  const events: [number, boolean][] = [
    [1, true],
    [1, false],
    [2, true],
    [2, false],
  ];
  const scores = [0, 0, 0, 0] as DeltaScores['scores'];
  const positions = [0, 0, 0, 0] as DeltaScores['positions'];
  events.forEach(([channel, gain], k) => {
    const [idx, value] = best(channel, gain);
    const offset = idx - half;
    // Gains at the annotated boundary and losses away from it are masked.
    const masked = input.mask && (gain ? offset === input.exonBoundaryDistance : offset !== input.exonBoundaryDistance);
    scores[k] = value * (masked ? 0 : 1);
    positions[k] = offset;
  });
  return { scores, positions };
}

/**
 * One `ALT|GENE|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL` entry; without scores (REF and
 * ALT both longer than 1) the eight fields are dots, as SpliceAI writes them.
 */
export function formatDeltaEntry(alt: string, gene: string, delta: DeltaScores | undefined, precision = 2): string {
  if (!delta) return `${alt}|${gene}|.|.|.|.|.|.|.|.`;
  return [alt, gene, ...delta.scores.map((s) => formatFixed(s, precision)), ...delta.positions.map(String)].join('|');
}
