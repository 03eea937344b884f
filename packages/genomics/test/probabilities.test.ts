import { describe, expect, test } from 'vitest';
import { InvalidArgumentError } from '@metaspliceai/core';
import { alignAltRows, computeDeltaScores, deltaProbabilities } from '@metaspliceai/genomics';

/** `(rows, 3)` with acceptor = a(r), donor = d(r). */
const rows = (n: number, a: (r: number) => number, d: (r: number) => number = () => 0) => {
  const out = new Float32Array(n * 3);
  for (let r = 0; r < n; r++) {
    out[r * 3 + 1] = a(r);
    out[r * 3 + 2] = d(r);
    out[r * 3] = 1 - a(r) - d(r);
  }
  return out;
};

describe('alignAltRows / deltaProbabilities', () => {
  const dist = 3; // cov 7
  test('a substitution is returned as is', () => {
    const alt = rows(7, (r) => r / 10);
    expect(alignAltRows(alt, 1, 1, dist)).toBe(alt);
  });

  test('a deletion: zero rows after row dist+1, as SpliceAI pads it', () => {
    const alt = rows(5, (r) => (r + 1) / 10); // cov - (3 - 1)
    const a = alignAltRows(alt, 3, 1, dist);
    expect(Array.from({ length: 7 }, (_, r) => a[r * 3 + 1])).toEqual([0.1, 0.2, 0.3, 0.4, 0, 0, 0.5].map(Math.fround));
  });

  test('an insertion: the per-class maximum over its rows', () => {
    const alt = rows(9, (r) => [0.1, 0.1, 0.1, 0.2, 0.6, 0.3, 0.1, 0.1, 0.1][r]); // cov + 3 - 1
    const a = alignAltRows(alt, 1, 3, dist);
    expect(Array.from({ length: 7 }, (_, r) => a[r * 3 + 1])).toEqual([0.1, 0.1, 0.1, 0.6, 0.1, 0.1, 0.1].map(Math.fround));
  });

  test('REF and ALT at the delta positions, the delta being their difference', () => {
    const ref = rows(
      7,
      (r) => (r === 1 ? 0.9 : 0.05),
      (r) => (r === 5 ? 0.4 : 0),
    );
    const alt = rows(
      7,
      (r) => (r === 1 ? 0.2 : r === 4 ? 0.7 : 0.05),
      (r) => (r === 5 ? 0.1 : r === 0 ? 0.3 : 0),
    );
    const delta = computeDeltaScores({ ref, alt, refLength: 1, altLength: 1, dist, mask: false, exonBoundaryDistance: 100 });
    expect(delta.positions).toEqual([1, -2, -3, 2]);
    const p = deltaProbabilities(delta, ref, alignAltRows(alt, 1, 1, dist), dist);
    for (let k = 0; k < 4; k++) expect(Math.fround(k % 2 === 0 ? p.alt[k] - p.ref[k] : p.ref[k] - p.alt[k])).toBeCloseTo(delta.scores[k], 6);
    expect(p.ref[1]).toBeCloseTo(0.9);
    expect(p.alt[1]).toBeCloseTo(0.2);
  });

  test('rows of the wrong length are refused', () => {
    expect(() =>
      alignAltRows(
        rows(6, () => 0),
        1,
        1,
        dist,
      ),
    ).toThrow(InvalidArgumentError);
  });
});
