/**
 * A reproducible random sequence for tests: the same `seed` gives the same bases on every
 * platform (a 32-bit linear congruential generator, no Math.random).
 */
export function randomSequence(length: number, seed = 1, alphabet = 'ACGTN'): string {
  let state = seed;
  let out = '';
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out += alphabet[(state >>> 16) % alphabet.length];
  }
  return out;
}
