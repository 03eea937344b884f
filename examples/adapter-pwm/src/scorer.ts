import { type LoadedModel, type PredictBatch, SPLICE_CLASS_TRACKS } from '@metaspliceai/core';
import type { PwmModelFile, PwmMotif } from './model-file.js';

/** Nucleotide codes as core encodes them: 0 = N, 1 = A, 2 = C, 3 = G, 4 = T. */
const CODES = 5;

/**
 * A motif compiled for scanning: log2-odds of each code at each row (N scores 0, the background),
 * and the offset of the first row from the labelled base.
 */
export interface CompiledMotif {
  /** `rows * 5` log2-odds, indexed `row * 5 + code`. */
  logOdds: Float64Array;
  rows: number;
  /** Rows before the labelled base (the motif covers `i - anchor .. i - anchor + rows - 1`). */
  anchor: number;
  /** The natural log of the prior odds of a site, `ln(prior)` (added to the score in nats). */
  logPrior: number;
}

/**
 * Log-odds against the background: `log2(f / b)` per base, with each row first renormalised to
 * sum to 1 (published tables are rounded, so rows sum to 0.999..1.001).
 */
export function compileMotif(motif: PwmMotif, background: readonly number[]): CompiledMotif {
  const rows = motif.frequencies.length;
  const logOdds = new Float64Array(rows * CODES);
  motif.frequencies.forEach((row, r) => {
    const total = row[0] + row[1] + row[2] + row[3];
    for (let b = 0; b < 4; b++) logOdds[r * CODES + b + 1] = Math.log2(row[b] / total / background[b]);
  });
  return { logOdds, rows, anchor: motif.anchor, logPrior: Math.log(motif.prior) };
}

/** The motif's log2-odds score with its labelled base at `i` of `codes` (rows outside count as N). */
export function motifScore(m: CompiledMotif, codes: Uint8Array, i: number): number {
  let score = 0;
  const first = i - m.anchor;
  for (let r = 0; r < m.rows; r++) {
    const j = first + r;
    if (j >= 0 && j < codes.length) score += m.logOdds[r * CODES + codes[j]];
  }
  return score;
}

/**
 * Turns two log2-odds scores into [neither, acceptor, donor] probabilities. Read each score as a
 * likelihood ratio against background DNA, `2^S`, and Bayes' rule with the priors gives
 *   P(class) = prior_c 2^S_c / ((1 - prior_a - prior_d) + prior_a 2^S_a + prior_d 2^S_d),
 * a softmax over the logits [ln(1 - prior_a - prior_d), ln(prior_a) + S_a ln 2, ln(prior_d) + S_d ln 2]:
 * a multinomial logistic transform whose only constants are ln 2 and the priors in the model file.
 */
export function siteProbabilities(acceptor: CompiledMotif, donor: CompiledMotif, sAcceptor: number, sDonor: number): [number, number, number] {
  const l0 = Math.log1p(-Math.exp(acceptor.logPrior) - Math.exp(donor.logPrior));
  const la = acceptor.logPrior + sAcceptor * Math.LN2;
  const ld = donor.logPrior + sDonor * Math.LN2;
  const top = Math.max(l0, la, ld);
  const e0 = Math.exp(l0 - top);
  const ea = Math.exp(la - top);
  const ed = Math.exp(ld - top);
  const sum = e0 + ea + ed;
  return [e0 / sum, ea / sum, ed / sum];
}

/**
 * The loaded model: scans every output position of every tile with both motifs. Pure JavaScript,
 * no runtime to load; positions are independent, so batches and tile sizes never change a number.
 */
export function createPwmModel(file: PwmModelFile, context: number): LoadedModel {
  const acceptor = compileMotif(file.motifs.acceptor, file.background);
  const donor = compileMotif(file.motifs.donor, file.background);
  const half = context / 2;
  return {
    context,
    tracks: SPLICE_CLASS_TRACKS,
    backend: 'js',
    device: 'cpu',
    async predict({ codes, batch, length }: PredictBatch): Promise<Float32Array> {
      const outputs = Math.max(length - context, 0);
      const out = new Float32Array(batch * outputs * 3);
      for (let b = 0; b < batch; b++) {
        const row = codes.subarray(b * length, (b + 1) * length);
        for (let i = 0; i < outputs; i++) {
          const p = siteProbabilities(acceptor, donor, motifScore(acceptor, row, i + half), motifScore(donor, row, i + half));
          out.set(p, (b * outputs + i) * 3);
        }
      }
      return out;
    },
    async dispose() {},
  };
}
