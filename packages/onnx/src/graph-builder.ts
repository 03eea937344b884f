/**
 * A layer-level builder for SpliceAI-family graphs (dilated residual 1-D CNNs), neutral to the
 * framework the weights came from: each adapter maps its own file format onto these few layers and
 * gets ONNX `ModelProto` bytes back, ready for onnxruntime.
 *
 * This file records layers. One recorded graph then passes through planning (`graph-plan.ts`:
 * needed layers, batch-norm folding, trimming), staging (`graph-stages.ts`: cuts chosen by a cost
 * model) and lowering (`graph-lower.ts`: the ONNX forms onnxruntime runs fastest).
 */
import { InvalidArgumentError, parseOptions } from '@metaspliceai/core';
import { spliceGraphOptionsSchema } from './graph-options.js';
import { lowerMeans } from './graph-lower.js';
import { stageMeans, type StagedGraphs, type StagingOptions } from './graph-stages.js';
import type { EnsembleOptions } from './graph-plan.js';
import type { BatchNormParams } from './weights.js';

export { IR_VERSION, OPSET_VERSION, STATE_INPUT, STATE_OUTPUT } from './graph-lower.js';
export type { StagedGraphs, StagingOptions } from './graph-stages.js';
export type { EnsembleOptions } from './graph-plan.js';

/**
 * How convolutions are laid out. `conv2d`: tensors are `(N, C, 1, L)` and kernels `(out, in, 1, k)`,
 * the fast form on onnxruntime's CPU provider. `conv1d`: `(N, C, L)` with kernels `(out, in, k)`,
 * kept for comparison and for runtimes that prefer it.
 */
export type ConvLayout = 'conv2d' | 'conv1d';

export interface SpliceGraphOptions {
  /** The graph name stored in the model, e.g. `openspliceai-10000`. */
  name?: string;
  /** Channels of the one-hot input; 4 (A, C, G, T). */
  inputChannels?: number;
  /** Default `conv2d` (fastest on onnxruntime CPU). */
  convLayout?: ConvLayout;
  /** Fold a batch norm into the convolution it directly follows (default true; exact to ~1e-7). */
  foldBatchNorm?: boolean;
  /**
   * Compute each layer only where later layers need it (default true): convolutions run unpadded
   * ('valid'), residual and skip sums crop their wider operand, and the final crop shrinks by what
   * was already dropped. The kept outputs are the same numbers; the work near tile edges goes.
   * Graphs whose crops do not cover their convolutions' reach keep 'same' padding.
   */
  trimToNeeded?: boolean;
  /** Name of the graph input (default `one_hot`). */
  inputName?: string;
  /** Name of the graph output (default `probabilities`). */
  outputName?: string;
  /** Free-form key/value pairs stored in the model's `metadata_props` (family, context, source file). */
  metadata?: Readonly<Record<string, string>>;
}

/**
 * A value (tensor) in the graph being built. Opaque apart from what callers need to check shapes:
 * its channel count and how many positions it has lost relative to the input length.
 */
export interface GraphValue {
  readonly id: number;
  readonly channels: number;
  /**
   * Input positions lost so far (valid convolutions and crops): output length = input length -
   * context. For a whole SpliceAI network this is its flank (context).
   */
  readonly context: number;
}

/** A convolution layer's parameters, in ONNX/PyTorch weight order. */
export interface Conv1dParams {
  /** Kernel, `(out, in, k)` row-major. Convert Keras `(k, in, out)` with `kerasConv1dKernelToOik`. */
  weight: Float32Array;
  /** `[out, in, k]`. */
  shape: readonly [number, number, number];
  bias?: Float32Array;
  /** Default 1. */
  dilation?: number;
  /**
   * `same` keeps the length (extra padding on the right for even spans, as Keras and PyTorch do),
   * `valid` shrinks it by `dilation * (k - 1)`, `[left, right]` pads explicitly. Default `same`.
   */
  padding?: 'same' | 'valid' | readonly [number, number];
}

/** A recorded layer; values are numbered by the layer that computes them (0 is the input). */
export type Layer =
  | { kind: 'input' }
  | {
      kind: 'conv';
      input: number;
      weight: Float32Array;
      bias?: Float32Array;
      shape: readonly [number, number, number];
      dilation: number;
      pads: readonly [number, number];
    }
  | { kind: 'batchNorm'; input: number; params: BatchNormParams }
  | { kind: 'relu'; input: number }
  | { kind: 'leakyRelu'; input: number; alpha: number }
  | { kind: 'add'; inputs: readonly [number, number] }
  | { kind: 'crop'; input: number; left: number; right: number }
  | { kind: 'softmax'; input: number }
  | { kind: 'sigmoid'; input: number }
  | { kind: 'channels'; input: number; start: number; count: number };

/** What a builder recorded, as planning, staging and lowering read it. */
export interface RecordedGraph {
  readonly options: SpliceGraphBuilder['options'];
  readonly layers: readonly Layer[];
  readonly values: readonly GraphValue[];
}

/**
 * Builds an ONNX graph for a SpliceAI-family network, one layer call at a time. Values are
 * channels-first; the graph input is the one-hot sequence `(N, 4, 1, L)` (`conv2d` layout) or
 * `(N, 4, L)` (`conv1d`), with dynamic N and L.
 *
 * @example
 * const g = new SpliceGraphBuilder({ name: 'openspliceai-80' });
 * let h = g.conv1d(g.input(), { weight, shape: [32, 4, 1], bias });
 * ...
 * const bytes = g.build(g.softmax(logits));
 */
export class SpliceGraphBuilder {
  readonly options: Readonly<Required<Omit<SpliceGraphOptions, 'metadata'>>> & { metadata: Readonly<Record<string, string>> };
  private readonly layers: Layer[] = [];
  private readonly values: GraphValue[] = [];

  constructor(options: SpliceGraphOptions = {}) {
    parseOptions(spliceGraphOptionsSchema, options, { owner: 'SpliceGraphBuilder' });
    this.options = {
      name: options.name ?? 'splice-model',
      inputChannels: options.inputChannels ?? 4,
      convLayout: options.convLayout ?? 'conv2d',
      foldBatchNorm: options.foldBatchNorm ?? true,
      trimToNeeded: options.trimToNeeded ?? true,
      inputName: options.inputName ?? 'one_hot',
      outputName: options.outputName ?? 'probabilities',
      metadata: { ...options.metadata },
    };
    this.add_({ kind: 'input' }, this.options.inputChannels, 0);
  }

  /** The graph input: the one-hot sequence. The same value on every call. */
  input(): GraphValue {
    return this.values[0];
  }

  /** A 1-D convolution along the length (cross-correlation, like Keras Conv1D and PyTorch Conv1d). */
  conv1d(x: GraphValue, params: Conv1dParams): GraphValue {
    const input = this.check(x);
    const [out, inC, k] = params.shape;
    for (const n of params.shape) positiveInteger(n, 'conv1d shape');
    if (inC !== x.channels) throw new InvalidArgumentError(`conv1d: kernel expects ${inC} input channels, the value has ${x.channels}`);
    if (params.weight.length !== out * inC * k) {
      throw new InvalidArgumentError(`conv1d: weight has ${params.weight.length} values, shape [${params.shape}] needs ${out * inC * k}`);
    }
    if (params.bias && params.bias.length !== out) throw new InvalidArgumentError(`conv1d: bias has ${params.bias.length} values, expected ${out}`);
    const dilation = params.dilation ?? 1;
    positiveInteger(dilation, 'conv1d dilation');
    const span = dilation * (k - 1);
    const padding = params.padding ?? 'same';
    const pads: readonly [number, number] = padding === 'same' ? [Math.floor(span / 2), span - Math.floor(span / 2)] : padding === 'valid' ? [0, 0] : padding;
    for (const p of pads) nonNegativeInteger(p, 'conv1d padding');
    const lost = span - pads[0] - pads[1];
    return this.add_({ kind: 'conv', input, weight: params.weight, bias: params.bias, shape: [out, inC, k], dilation, pads }, out, x.context + lost);
  }

  /** Inference-mode batch normalization over the channel axis. */
  batchNorm(x: GraphValue, params: BatchNormParams): GraphValue {
    const input = this.check(x);
    for (const key of ['gamma', 'beta', 'mean', 'variance'] as const) {
      if (params[key].length !== x.channels) {
        throw new InvalidArgumentError(`batchNorm: ${key} has ${params[key].length} values, the value has ${x.channels} channels`);
      }
    }
    if (!(params.epsilon >= 0)) throw new InvalidArgumentError(`batchNorm: epsilon must be >= 0, got ${params.epsilon}`);
    return this.add_({ kind: 'batchNorm', input, params }, x.channels, x.context);
  }

  /** `max(x, 0)` (SpliceAI). */
  relu(x: GraphValue): GraphValue {
    return this.add_({ kind: 'relu', input: this.check(x) }, x.channels, x.context);
  }

  /** `x < 0 ? alpha * x : x` (OpenSpliceAI uses alpha 0.1). */
  leakyRelu(x: GraphValue, alpha: number): GraphValue {
    if (!Number.isFinite(alpha)) throw new InvalidArgumentError(`leakyRelu: alpha must be finite, got ${alpha}`);
    return this.add_({ kind: 'leakyRelu', input: this.check(x), alpha }, x.channels, x.context);
  }

  /** Element-wise sum of two values of the same channels and length (residual and skip paths). */
  add(a: GraphValue, b: GraphValue): GraphValue {
    const ia = this.check(a);
    const ib = this.check(b);
    if (a.channels !== b.channels || a.context !== b.context) {
      throw new InvalidArgumentError(`add: operands differ (channels ${a.channels} vs ${b.channels}, positions lost ${a.context} vs ${b.context})`);
    }
    return this.add_({ kind: 'add', inputs: [ia, ib] }, a.channels, a.context);
  }

  /** Drops `left` and `right` positions from the ends of the length axis (Keras Cropping1D). */
  crop(x: GraphValue, left: number, right: number): GraphValue {
    const input = this.check(x);
    nonNegativeInteger(left, 'crop left');
    nonNegativeInteger(right, 'crop right');
    if (left === 0 && right === 0) return x;
    return this.add_({ kind: 'crop', input, left, right }, x.channels, x.context + left + right);
  }

  /** Softmax over the channel axis, per position. */
  softmax(x: GraphValue): GraphValue {
    return this.add_({ kind: 'softmax', input: this.check(x) }, x.channels, x.context);
  }

  /** `1 / (1 + exp(-x))`, element-wise (Pangolin's 1-channel usage heads). */
  sigmoid(x: GraphValue): GraphValue {
    return this.add_({ kind: 'sigmoid', input: this.check(x) }, x.channels, x.context);
  }

  /**
   * Channels `start .. start + count - 1` of `x`: a head's one useful output, e.g. P(site) of a
   * two-class softmax (Pangolin), when each file of a set contributes one track.
   */
  channels(x: GraphValue, start: number, count = 1): GraphValue {
    const input = this.check(x);
    nonNegativeInteger(start, 'channels start');
    positiveInteger(count, 'channels count');
    if (start + count > x.channels) throw new InvalidArgumentError(`channels: ${start}..${start + count - 1} is outside the value's ${x.channels} channels`);
    if (start === 0 && count === x.channels) return x;
    return this.add_({ kind: 'channels', input, start, count }, count, x.context);
  }

  /** Number of layers recorded, the input included. */
  get layerCount(): number {
    return this.layers.length;
  }

  /**
   * Lowers the layers that `output` depends on to ONNX and serializes the model. The graph output is
   * `(N, C, 1, L - context)` (`conv2d`) or `(N, C, L - context)` (`conv1d`), channels-first.
   */
  build(output: GraphValue): Uint8Array {
    return SpliceGraphBuilder.buildMean([{ builder: this, output }]);
  }

  /**
   * Networks recorded in separate builders over the same input, as one graph whose output is the
   * float32 mean of theirs (ONNX `Mean`): an ensemble in one session, which a runtime runs in one
   * call and plans memory for once. Their builders must agree on layout, input, output and context;
   * each member's values are prefixed `m<k>_`. One network gives what `build` gives.
   */
  static buildMean(members: readonly RecordedNetwork[], options: EnsembleOptions = {}): Uint8Array {
    return SpliceGraphBuilder.buildMeans([members], options);
  }

  /**
   * `buildMean` for several groups of networks over the same input: the output holds each group's
   * mean in turn on the channel axis (`(N, groups x C, ...)`), in one graph and one session. A set
   * whose files are different heads, each trained as several replicates (Pangolin: 8 heads x 3
   * replicates, one output track per head), runs this way. One group gives what `buildMean` gives.
   */
  static buildMeans(groups: readonly (readonly RecordedNetwork[])[], options: EnsembleOptions = {}): Uint8Array {
    return lowerMeans(
      groups.map((group) => group.map(recorded)),
      options,
    );
  }

  /**
   * The same network cut into consecutive stages, for recomputing only what a local change to the
   * input changes (see core's `StagedNetwork`). A cut goes where at most two values (the residual
   * stream and the skip sum) cross it; the state handed between stages is those values cropped to
   * their common extent and concatenated on the channel axis. Cuts are chosen to minimise the work
   * of recomputing `2 * dist + 1` outputs around a one-base change. Undefined when the graph cannot
   * be trimmed (see `trimToNeeded`) or has no useful cut.
   */
  buildStaged(output: GraphValue, options: StagingOptions = {}): StagedGraphs | undefined {
    return SpliceGraphBuilder.buildStagedMean([{ builder: this, output }], options);
  }

  /**
   * `buildStaged` for the mean of several networks (see `buildMean`): each stage runs every
   * member's part, the state is the crossing values with the members side by side on the channel
   * axis, and the last stage averages. Undefined unless every member cuts into stages of the same reaches.
   */
  static buildStagedMean(members: readonly RecordedNetwork[], options: StagingOptions = {}): StagedGraphs | undefined {
    return SpliceGraphBuilder.buildStagedMeans([members], options);
  }

  /** `buildStaged` for the group means of `buildMeans`: the last stage averages each group. */
  static buildStagedMeans(groups: readonly (readonly RecordedNetwork[])[], options: StagingOptions = {}): StagedGraphs | undefined {
    return stageMeans(
      groups.map((group) => group.map(recorded)),
      options,
    );
  }

  /** What was recorded, for planning and lowering; `output` must be a value of this builder. */
  recorded(output: GraphValue): { graph: RecordedGraph; outId: number } {
    return { graph: { options: this.options, layers: this.layers, values: this.values }, outId: this.check(output) };
  }

  private add_(layer: Layer, channels: number, context: number): GraphValue {
    const value: GraphValue = Object.freeze({ id: this.layers.length, channels, context });
    this.layers.push(layer);
    this.values.push(value);
    return value;
  }

  private check(x: GraphValue): number {
    if (this.values[x.id] !== x) throw new InvalidArgumentError('the value does not belong to this SpliceGraphBuilder');
    return x.id;
  }
}

/** A network recorded in a builder and the value it outputs: a member of `buildMean`. */
export interface RecordedNetwork {
  builder: SpliceGraphBuilder;
  output: GraphValue;
}

/** A member as planning reads it. */
function recorded({ builder, output }: RecordedNetwork): { graph: RecordedGraph; outId: number } {
  return builder.recorded(output);
}

function positiveInteger(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what}: expected a positive integer, got ${n}`);
}

function nonNegativeInteger(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${what}: expected a non-negative integer, got ${n}`);
}
