import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeDeltaScores, formatDeltaEntry, formatFixed } from '@metaspliceai/genomics';

interface NumpyCase {
  dist: number;
  refLength: number;
  altLength: number;
  mask: boolean;
  exonBoundaryDistance: number;
  precision: number;
  ref: number[];
  alt: number[];
  expected: string;
}

// Random model outputs run through SpliceAI's own post-model numpy code (see the .py beside it).
const numpy = JSON.parse(readFileSync(new URL('./fixtures/variants-delta-numpy.json', import.meta.url), 'utf8')) as { cases: NumpyCase[] };

describe('formatFixed (Python {:.Nf})', () => {
  it.each([
    [0.125, 2, '0.12'],
    [0.375, 2, '0.38'],
    [-1e-14, 2, '-0.00'],
    [-0, 2, '-0.00'],
    [0, 2, '0.00'],
    [0.005, 2, '0.01'],
    [0.015, 2, '0.01'],
    [0.025, 2, '0.03'],
    [2.675, 2, '2.67'],
    [0.9999, 2, '1.00'],
    [0.995, 2, '0.99'],
    [-0.995, 2, '-0.99'],
    [0.5, 0, '0'],
    [1.5, 0, '2'],
    [2.5, 0, '2'],
    [-2.5, 0, '-2'],
    [5e-324, 3, '0.000'],
    [123456.785, 2, '123456.79'],
    [1, 4, '1.0000'],
    [Math.fround(0.998173), 2, '1.00'],
  ])('%s with %i decimals is %s', (x, digits, text) => {
    expect(formatFixed(x, digits)).toBe(text);
  });

  it('agrees with toFixed away from ties and zero signs', () => {
    let seed = 7;
    for (let i = 0; i < 5000; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      const x = Math.fround(seed / 2 ** 32) * (i % 2 ? 1 : 3);
      expect(formatFixed(x, 2)).toBe(x.toFixed(2));
    }
  });
});

describe('computeDeltaScores', () => {
  it(`matches SpliceAI's numpy post-processing on ${numpy.cases.length} random cases (ties, tiny deltas, masks, indels)`, () => {
    for (const [i, c] of numpy.cases.entries()) {
      const delta = computeDeltaScores({ ...c, ref: Float32Array.from(c.ref), alt: Float32Array.from(c.alt) });
      const text = formatDeltaEntry('X', 'G', delta, c.precision).split('|').slice(2).join('|');
      expect(text, `case ${i}`).toBe(c.expected);
    }
  });

  it('puts zero rows after a deletion and takes the maximum over an insertion', () => {
    // dist 1: rows POS-1, POS, POS+1. Acceptor channel only.
    const row = (acc: number) => [1 - acc, acc, 0];
    const ref = Float32Array.from([...row(0.1), ...row(0.2), ...row(0.3)]);
    // Deletion of 1 base (REF 2 nt): the alt has 2 rows; a zero row goes in after row POS.
    const del = computeDeltaScores({
      ref,
      alt: Float32Array.from([...row(0.1), ...row(0.2)]),
      refLength: 2,
      altLength: 1,
      dist: 1,
      mask: false,
      exonBoundaryDistance: 0,
    });
    expect(del.positions[1]).toBe(1); // the zero row at POS+1 is the largest loss (0.3)
    expect(del.scores[1]).toBeCloseTo(0.3, 6);
    // Insertion of 2 bases (ALT 3 nt): 5 alt rows, rows POS..POS+2 collapse to their maximum.
    const ins = computeDeltaScores({
      ref,
      alt: Float32Array.from([...row(0.1), ...row(0.2), ...row(0.9), ...row(0.2), ...row(0.3)]),
      refLength: 1,
      altLength: 3,
      dist: 1,
      mask: false,
      exonBoundaryDistance: 0,
    });
    expect(ins.positions[0]).toBe(0);
    expect(ins.scores[0]).toBeCloseTo(0.7, 6);
  });

  it('masks scores, not positions, and keeps the sign of a masked negative', () => {
    const ref = Float32Array.from([0.5, 0.3, 0.2, 0.5, 0.3, 0.2, 0.5, 0.3, 0.2]);
    const alt = Float32Array.from([0.6, 0.2, 0.2, 0.5, 0.3, 0.2, 0.6, 0.2, 0.2]);
    const delta = computeDeltaScores({ ref, alt, refLength: 1, altLength: 1, dist: 1, mask: true, exonBoundaryDistance: 0 });
    // Acceptor gain: the best "gain" is 0 at POS (the annotated boundary): masked to 0.
    expect(delta.positions[0]).toBe(0);
    // Acceptor loss at POS-1, away from the boundary: masked, position kept.
    expect(delta.positions[1]).toBe(-1);
    expect(formatDeltaEntry('A', 'G', delta)).toBe('A|G|0.00|0.00|0.00|0.00|0|-1|-1|-1');
  });

  it('writes dots for REF and ALT both longer than 1', () => {
    expect(formatDeltaEntry('AT', 'GENE', undefined)).toBe('AT|GENE|.|.|.|.|.|.|.|.');
    expect(() =>
      computeDeltaScores({ ref: new Float32Array(9), alt: new Float32Array(9), refLength: 2, altLength: 2, dist: 1, mask: false, exonBoundaryDistance: 0 }),
    ).toThrow(/dots/);
  });
});
