/**
 * Nucleotide codes shared by every model: 0 = N (and every symbol that is not A, C, G or T after
 * upper-casing), 1 = A, 2 = C, 3 = G, 4 = T. One-hot rows are A, C, G, T; N is all zeros.
 */
export const CODE_N = 0;

const CODE_OF_BYTE = new Uint8Array(256);
for (const [ch, code] of [
  ['A', 1],
  ['C', 2],
  ['G', 3],
  ['T', 4],
] as const) {
  CODE_OF_BYTE[ch.charCodeAt(0)] = code;
  CODE_OF_BYTE[ch.toLowerCase().charCodeAt(0)] = code;
}

/** Encodes a sequence (any case, any symbols) into codes; unknown symbols become N. */
export function encodeSequence(sequence: string): Uint8Array {
  const out = new Uint8Array(sequence.length);
  for (let i = 0; i < sequence.length; i++) {
    const c = sequence.charCodeAt(i);
    out[i] = c < 256 ? CODE_OF_BYTE[c] : CODE_N;
  }
  return out;
}

/** The reverse complement of encoded codes (A<->T, C<->G, N stays N). */
export function reverseComplementCodes(codes: Uint8Array): Uint8Array {
  const n = codes.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = codes[n - 1 - i];
    out[i] = c === CODE_N ? CODE_N : 5 - c;
  }
  return out;
}

const COMPLEMENT: Record<string, string> = {
  A: 'T',
  C: 'G',
  G: 'C',
  T: 'A',
  a: 't',
  c: 'g',
  g: 'c',
  t: 'a',
  N: 'N',
  n: 'n',
};

/** The reverse complement of a sequence string; symbols other than ACGTN become N. */
export function reverseComplement(sequence: string): string {
  let out = '';
  for (let i = sequence.length - 1; i >= 0; i--) out += COMPLEMENT[sequence[i]] ?? 'N';
  return out;
}

/**
 * One-hot, channels-first `(batch, 4, length)`: the layout of PyTorch and ONNX convolutions.
 * `codes` is `(batch, length)` row-major.
 */
export function oneHotChannelsFirst(codes: Uint8Array, batch: number, length: number): Float32Array {
  const out = new Float32Array(batch * 4 * length);
  for (let b = 0; b < batch; b++) {
    const inBase = b * length;
    const outBase = b * 4 * length;
    for (let i = 0; i < length; i++) {
      const c = codes[inBase + i];
      if (c !== CODE_N) out[outBase + (c - 1) * length + i] = 1;
    }
  }
  return out;
}

/** One-hot, channels-last `(batch, length, 4)`: the layout of Keras and TensorFlow.js. */
export function oneHotChannelsLast(codes: Uint8Array, batch: number, length: number): Float32Array {
  const n = batch * length;
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const c = codes[i];
    if (c !== CODE_N) out[i * 4 + c - 1] = 1;
  }
  return out;
}
