/**
 * A tiny SpliceAI-shaped network with random weights, and a straightforward float64 reference
 * implementation to check the ONNX graphs against.
 */
import {
  type BatchNormParams,
  type CreateOnnxModelOptions,
  type GraphValue,
  type SpliceGraphOptions,
  SpliceGraphBuilder,
  type StagedGraphs,
  type StagingOptions,
  createOnnxModel,
} from '../src/index.js';

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Conv {
  weight: Float32Array; // (out, in, k)
  bias: Float32Array;
  out: number;
  in: number;
  k: number;
  dilation: number;
}

export interface TinyNet {
  channels: number;
  alpha: number;
  initial: Conv;
  skip0: Conv;
  units: { bn1: BatchNormParams; conv1: Conv; bn2: BatchNormParams; conv2: Conv }[];
  skips: Conv[]; // one after each unit
  final: Conv;
  context: number;
}

function randArray(n: number, r: () => number, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

function conv(r: () => number, out: number, inC: number, k: number, dilation = 1): Conv {
  const bound = 1 / Math.sqrt(inC * k);
  return { weight: randArray(out * inC * k, r, -bound, bound), bias: randArray(out, r, -0.2, 0.2), out, in: inC, k, dilation };
}

function bn(r: () => number, c: number, epsilon: number): BatchNormParams {
  return {
    gamma: randArray(c, r, 0.5, 1.5),
    beta: randArray(c, r, -0.3, 0.3),
    mean: randArray(c, r, -0.3, 0.3),
    variance: randArray(c, r, 0.3, 1.5),
    epsilon,
  };
}

/** Two residual units (kernels 3 and 5, dilations 1 and 2), 8 channels, leaky ReLU 0.1. */
export function makeTinyNet(seed = 1, kernels = [3, 5], dilations = [1, 2], channels = 8): TinyNet {
  const r = rng(seed);
  const units = kernels.map((k, i) => ({
    bn1: bn(r, channels, 1e-5),
    conv1: conv(r, channels, channels, k, dilations[i]),
    bn2: bn(r, channels, 1e-5),
    conv2: conv(r, channels, channels, k, dilations[i]),
  }));
  const context = 2 * kernels.reduce((s, k, i) => s + dilations[i] * (k - 1), 0);
  return {
    channels,
    alpha: 0.1,
    initial: conv(r, channels, 4, 1),
    skip0: conv(r, channels, channels, 1),
    units,
    skips: kernels.map(() => conv(r, channels, channels, 1)),
    final: conv(r, 3, channels, 1),
    context,
  };
}

/** Records the tiny net in a builder; `softmax: false` leaves logits. */
export function recordTinyNet(net: TinyNet, options: SpliceGraphOptions = {}, softmax = true, crop = true): { g: SpliceGraphBuilder; out: GraphValue } {
  const g = new SpliceGraphBuilder({ name: 'tiny', ...options });
  const c = (x: GraphValue, p: Conv): GraphValue =>
    g.conv1d(x, { weight: p.weight, shape: [p.out, p.in, p.k], bias: p.bias, dilation: p.dilation, padding: 'same' });
  let h = c(g.input(), net.initial);
  let skip = c(h, net.skip0);
  net.units.forEach((u, i) => {
    let y = c(g.leakyRelu(g.batchNorm(h, u.bn1), net.alpha), u.conv1);
    y = c(g.leakyRelu(g.batchNorm(y, u.bn2), net.alpha), u.conv2);
    h = g.add(h, y);
    skip = g.add(skip, c(h, net.skips[i]));
  });
  const cropped = crop ? g.crop(skip, net.context / 2, net.context / 2) : skip;
  const logits = c(cropped, net.final);
  return { g, out: softmax ? g.softmax(logits) : logits };
}

/** Builds the tiny net with the builder; `softmax: false` leaves logits. */
export function buildTinyNet(net: TinyNet, options: SpliceGraphOptions = {}, softmax = true, crop = true): Uint8Array {
  const { g, out } = recordTinyNet(net, options, softmax, crop);
  return g.build(out);
}

/** The tiny net as stage graphs (undefined when the builder finds no cut). */
export function buildTinyNetStaged(net: TinyNet, options: SpliceGraphOptions = {}, staging: StagingOptions = {}, softmax = true): StagedGraphs | undefined {
  const { g, out } = recordTinyNet(net, options, softmax);
  return g.buildStaged(out, staging);
}

type Mat = Float64Array[]; // [channel][position]

function refConv(x: Mat, p: Conv): Mat {
  const L = x[0].length;
  const span = p.dilation * (p.k - 1);
  const padL = Math.floor(span / 2);
  const out: Mat = [];
  for (let o = 0; o < p.out; o++) {
    const row = new Float64Array(L).fill(p.bias[o]);
    for (let i = 0; i < p.in; i++) {
      for (let t = 0; t < p.k; t++) {
        const w = p.weight[(o * p.in + i) * p.k + t];
        const shift = t * p.dilation - padL;
        for (let pos = 0; pos < L; pos++) {
          const q = pos + shift;
          if (q >= 0 && q < L) row[pos] += w * x[i][q];
        }
      }
    }
    out.push(row);
  }
  return out;
}

function refBn(x: Mat, p: BatchNormParams): Mat {
  return x.map((row, c) => row.map((v) => ((v - p.mean[c]) / Math.sqrt(p.variance[c] + p.epsilon)) * p.gamma[c] + p.beta[c]));
}

const refLeaky = (x: Mat, a: number): Mat => x.map((row) => row.map((v) => (v < 0 ? a * v : v)));
const refAdd = (a: Mat, b: Mat): Mat => a.map((row, c) => row.map((v, i) => v + b[c][i]));

/**
 * Reference forward pass for one tile of codes (0 = N, 1..4 = A, C, G, T): returns
 * `(length - context, 3)` probabilities row-major.
 */
export function referenceForward(net: TinyNet, codes: Uint8Array): Float64Array {
  const L = codes.length;
  const x: Mat = Array.from({ length: 4 }, () => new Float64Array(L));
  codes.forEach((c, i) => {
    if (c > 0) x[c - 1][i] = 1;
  });
  let h = refConv(x, net.initial);
  let skip = refConv(h, net.skip0);
  net.units.forEach((u, i) => {
    let y = refConv(refLeaky(refBn(h, u.bn1), net.alpha), u.conv1);
    y = refConv(refLeaky(refBn(y, u.bn2), net.alpha), u.conv2);
    h = refAdd(h, y);
    skip = refAdd(skip, refConv(h, net.skips[i]));
  });
  const half = net.context / 2;
  const cropped = skip.map((row) => row.slice(half, L - half));
  const logits = refConv(cropped, net.final);
  const n = L - net.context;
  const out = new Float64Array(n * 3);
  for (let p = 0; p < n; p++) {
    const m = Math.max(logits[0][p], logits[1][p], logits[2][p]);
    const e = [0, 1, 2].map((c) => Math.exp(logits[c][p] - m));
    const s = e[0] + e[1] + e[2];
    for (let c = 0; c < 3; c++) out[p * 3 + c] = e[c] / s;
  }
  return out;
}

/** Random codes 0..4 (N included). */
export function randomCodes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 5));
}

/** Largest absolute difference between ORT rows and the reference for every tile of a batch. */
export function maxDiff(net: TinyNet, codes: Uint8Array, batch: number, length: number, got: Float32Array): number {
  const n = length - net.context;
  expectLength(got.length, batch * n * 3);
  let worst = 0;
  for (let b = 0; b < batch; b++) {
    const ref = referenceForward(net, codes.subarray(b * length, (b + 1) * length));
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i] - got[b * n * 3 + i]));
  }
  return worst;
}

function expectLength(got: number, want: number): void {
  if (got !== want) throw new Error(`output has ${got} values, expected ${want}`);
}

/**
 * Opens a model, runs its stages one after another on `codes` and its whole graph: the stages'
 * reaches, the chain's output, and its largest difference from the whole graph's (Infinity when
 * their lengths differ).
 */
export async function chainAgainstWhole(
  options: CreateOnnxModelOptions,
  codes: Uint8Array,
  batch: number,
  length: number,
): Promise<{ reach: readonly number[]; chained: Float32Array; difference: number }> {
  const model = await createOnnxModel(options);
  try {
    const stages = model.stages!;
    let state = await stages.runFirst({ codes, batch, length });
    for (let s = 1; s < stages.reach.length - 1; s++) state = await stages.runMiddle(s, state);
    const chained = await stages.runLast(state);
    const whole = await model.predict({ codes, batch, length });
    const difference = chained.length === whole.length ? Math.max(...chained.map((v, i) => Math.abs(v - whole[i]))) : Infinity;
    return { reach: stages.reach, chained, difference };
  } finally {
    await model.dispose();
  }
}
