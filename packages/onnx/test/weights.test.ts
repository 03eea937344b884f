import { describe, it, expect } from 'vitest';
import { batchNormAffine, foldBatchNormIntoConv, kerasConv1dKernelToOik } from '../src/index.js';

describe('weight layouts', () => {
  it('reorders a Keras (k, in, out) kernel into (out, in, k)', () => {
    const [k, inC, outC] = [3, 2, 4];
    const keras = Float32Array.from({ length: k * inC * outC }, (_, i) => i);
    const oik = kerasConv1dKernelToOik(keras, k, inC, outC);
    for (let t = 0; t < k; t++)
      for (let i = 0; i < inC; i++) for (let o = 0; o < outC; o++) expect(oik[(o * inC + i) * k + t]).toBe(keras[(t * inC + i) * outC + o]);
    expect(() => kerasConv1dKernelToOik(keras, 3, 2, 5)).toThrow(RangeError);
  });

  it('folds a batch norm into conv weights and bias', () => {
    const bn = {
      gamma: Float32Array.of(2, 0.5),
      beta: Float32Array.of(1, -1),
      mean: Float32Array.of(0.5, 0),
      variance: Float32Array.of(3, 0.999),
      epsilon: 1e-3,
    };
    const { scale, shift } = batchNormAffine(bn);
    expect(scale[0]).toBeCloseTo(2 / Math.sqrt(3.001), 12);
    const { weight, bias } = foldBatchNormIntoConv(Float32Array.of(1, 2, 3, 4), Float32Array.of(0.25, 0), 2, bn);
    expect(weight[1]).toBeCloseTo(2 * scale[0], 6);
    expect(weight[3]).toBeCloseTo(4 * scale[1], 6);
    expect(bias[0]).toBeCloseTo(0.25 * scale[0] + shift[0], 6);
    expect(bias[1]).toBeCloseTo(shift[1], 6);
  });
});
