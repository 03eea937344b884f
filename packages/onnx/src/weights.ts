/**
 * Weight-layout conversions between the frameworks the adapters read and the ONNX layout the
 * builder takes. ONNX (and PyTorch) order a 1-D convolution kernel `(out, in, k)`; Keras and
 * TensorFlow store it `(k, in, out)`.
 */

/**
 * Reorders a Keras/TensorFlow Conv1D kernel `(k, in, out)` into the ONNX/PyTorch order
 * `(out, in, k)` that `SpliceGraphBuilder.conv1d` takes. Keras Conv1D is a cross-correlation, like
 * ONNX Conv, so the taps keep their order (no flip).
 */
export function kerasConv1dKernelToOik(kernel: Float32Array, kernelSize: number, inChannels: number, outChannels: number): Float32Array {
  const expected = kernelSize * inChannels * outChannels;
  if (kernel.length !== expected) {
    throw new RangeError(`Keras kernel (${kernelSize}, ${inChannels}, ${outChannels}) needs ${expected} values, got ${kernel.length}`);
  }
  const out = new Float32Array(expected);
  for (let t = 0; t < kernelSize; t++) {
    for (let i = 0; i < inChannels; i++) {
      const src = (t * inChannels + i) * outChannels;
      for (let o = 0; o < outChannels; o++) out[(o * inChannels + i) * kernelSize + t] = kernel[src + o];
    }
  }
  return out;
}

/** Inference-time batch normalization parameters, per channel. */
export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  /** 1e-3 for Keras BatchNormalization, 1e-5 for PyTorch BatchNorm1d. */
  epsilon: number;
}

/**
 * The per-channel affine form of a batch norm, `y = scale * x + shift`, computed in float64 so that
 * folding it into a convolution adds no error beyond the final float32 rounding.
 */
export function batchNormAffine(bn: BatchNormParams): { scale: Float64Array; shift: Float64Array } {
  const n = bn.gamma.length;
  const scale = new Float64Array(n);
  const shift = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    scale[c] = bn.gamma[c] / Math.sqrt(bn.variance[c] + bn.epsilon);
    shift[c] = bn.beta[c] - bn.mean[c] * scale[c];
  }
  return { scale, shift };
}

/**
 * Folds a batch norm into the convolution it directly follows: `BN(conv(x, W) + b)` equals
 * `conv(x, W * s) + (b * s + t)` per output channel. Weight is `(out, in, k)`.
 */
export function foldBatchNormIntoConv(
  weight: Float32Array,
  bias: Float32Array | undefined,
  outChannels: number,
  bn: BatchNormParams,
): { weight: Float32Array; bias: Float32Array } {
  const { scale, shift } = batchNormAffine(bn);
  const perOut = weight.length / outChannels;
  const w = new Float32Array(weight.length);
  const b = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    for (let j = 0; j < perOut; j++) w[o * perOut + j] = weight[o * perOut + j] * scale[o];
    b[o] = (bias ? bias[o] : 0) * scale[o] + shift[o];
  }
  return { weight: w, bias: b };
}
