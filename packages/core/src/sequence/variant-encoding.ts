import { CODE_N, encodeSequence } from './encoding.js';

/**
 * How a variant window's letters become codes.
 * - `spliceai`: SpliceAI's `one_hot_encode`, quirk included: upper-case, A/C/G/T/N -> 1/2/3/4/0 and
 *   any other letter to its byte value mod 5 (IUPAC `R` (82) reads as C, `K` (75) as N). Needed to
 *   reproduce SpliceAI's scores where the genome or an ALT holds IUPAC codes.
 * - `acgt`: every symbol other than A, C, G, T (any case) is N, as OpenSpliceAI and `predict` do.
 */
export const VARIANT_ENCODINGS = ['spliceai', 'acgt'] as const;
export type VariantEncoding = (typeof VARIANT_ENCODINGS)[number];

/** The VariantScorer's default: SpliceAI's own encoding, so its scores are upstream's by default. */
export const DEFAULT_VARIANT_ENCODING: VariantEncoding = VARIANT_ENCODINGS[0];

const SPLICEAI_CODE = new Uint8Array(256);
for (let b = 0; b < 128; b++) SPLICEAI_CODE[b] = b % 5;
for (const [ch, code] of [
  ['A', 1],
  ['C', 2],
  ['G', 3],
  ['T', 4],
  ['N', CODE_N],
] as const)
  SPLICEAI_CODE[ch.charCodeAt(0)] = code;
for (let b = 97; b <= 122; b++) SPLICEAI_CODE[b] = SPLICEAI_CODE[b - 32]; // upper() first

/** Encodes letters into nucleotide codes under the chosen rule. */
export function encodeVariantSequence(sequence: string, encoding: VariantEncoding): Uint8Array {
  if (encoding === 'acgt') return encodeSequence(sequence);
  const out = new Uint8Array(sequence.length);
  for (let i = 0; i < sequence.length; i++) {
    const c = sequence.charCodeAt(i);
    out[i] = c < 256 ? SPLICEAI_CODE[c] : CODE_N;
  }
  return out;
}
