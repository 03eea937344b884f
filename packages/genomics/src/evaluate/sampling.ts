/**
 * A seeded 32-bit generator (mulberry32): small, fast and the same on every platform, so a TN
 * sample is reproducible from `--seed` alone.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of one gene's sample: the run's seed mixed with the gene id (FNV-1a), so a gene draws
 * the same sample whichever chunk, shard or order it runs in.
 */
export function geneSeed(seed: number, geneId: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < geneId.length; i++) {
    h ^= geneId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * `m` distinct integers drawn uniformly from `[0, n)`, ascending (Floyd's algorithm: m draws,
 * memory O(m), whatever n is).
 */
export function sampleIndices(n: number, m: number, random: () => number): number[] {
  const count = Math.max(0, Math.min(m, n));
  const chosen = new Set<number>();
  for (let j = n - count; j < n; j++) {
    const t = Math.floor(random() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}
