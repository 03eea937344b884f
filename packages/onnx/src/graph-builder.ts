/**
 * A layer-level builder for SpliceAI-family graphs (dilated residual 1-D CNNs), neutral to the
 * framework the weights came from: each adapter maps its own file format onto these few layers and
 * gets ONNX `ModelProto` bytes back, ready for onnxruntime.
 *
 * The builder records layers first and lowers them to ONNX nodes in `build`, which is where the
 * speed-relevant choices are made: convolutions as height-1 `Conv2d` (onnxruntime's CPU Conv2d
 * kernels are several times faster than its Conv1d ones), batch norms folded into the convolution
 * they follow, and the other batch norms and crops written as depthwise convolutions, so that
 * onnxruntime keeps the whole residual trunk in its blocked (NCHWc) layout and fuses activations.
 */
import { InvalidArgumentError } from '@metaspliceai/core';
import { type OnnxNode, type OnnxTensor, type OnnxValueInfo, OnnxDataType, encodeModel, floatTensor, int64Tensor } from './onnx-proto.js';
import { type BatchNormParams, batchNormAffine, foldBatchNormIntoConv } from './weights.js';

/**
 * How convolutions are laid out. `conv2d`: tensors are `(N, C, 1, L)` and kernels `(out, in, 1, k)`,
 * the fast form on onnxruntime's CPU provider. `conv1d`: `(N, C, L)` with kernels `(out, in, k)`,
 * kept for comparison and for runtimes that prefer it.
 */
export type ConvLayout = 'conv2d' | 'conv1d';

/**
 * How a batch norm that cannot be folded into a preceding convolution is emitted: an ONNX
 * `BatchNormalization`, a `Mul` and an `Add`, or a depthwise 1x1 `Conv` (`conv2d` layout only),
 * into which onnxruntime fuses the activation that follows.
 */
export type BatchNormForm = 'node' | 'mul-add' | 'conv';

/**
 * How a crop of the length axis is emitted: a `Slice`, or (`conv2d` layout, equal crops at both
 * ends) a depthwise `Conv` of taps `[0, 1, 0]` dilated by the crop, which copies exactly and keeps
 * onnxruntime's blocked layout (a `Slice` makes it reorder the tensor out of it and back).
 */
export type CropForm = 'slice' | 'conv';

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
  /** Form of the batch norms left after folding (default `conv` for `conv2d`, `node` for `conv1d`). */
  batchNormForm?: BatchNormForm;
  /** Form of the crops (default `conv` for `conv2d`, `slice` for `conv1d`). */
  cropForm?: CropForm;
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

type Layer =
  | { kind: 'input' }
  | { kind: 'conv'; input: number; weight: Float32Array; bias?: Float32Array; shape: readonly [number, number, number]; dilation: number; pads: readonly [number, number] }
  | { kind: 'batchNorm'; input: number; params: BatchNormParams }
  | { kind: 'relu'; input: number }
  | { kind: 'leakyRelu'; input: number; alpha: number }
  | { kind: 'add'; inputs: readonly [number, number] }
  | { kind: 'crop'; input: number; left: number; right: number }
  | { kind: 'softmax'; input: number }
  | { kind: 'sigmoid'; input: number }
  | { kind: 'channels'; input: number; start: number; count: number };

/** Options of `buildStaged`. */
export interface StagingOptions {
  /**
   * At most this many stages (default 3); fewer when another cut saves little. Each cut costs
   * copies and a session call per stage: scoring 200 SNVs with the OpenSpliceAI 10000 ensemble
   * measured 12.0 variants/s with 3 stages, 10.3 with 4, 11.2 with 5 and 10.6 with 7.
   */
  maxStages?: number;
  /** The distance scored around a change, which the cut choice optimises for (default 50). */
  dist?: number;
}

/** A network as consecutive stage graphs; see `SpliceGraphBuilder.buildStaged`. */
export interface StagedGraphs {
  /**
   * One ONNX model per stage. The first takes the graph input; each later one takes `state`
   * `(N, C, 1, L)` and all but the last give `next_state` `(N, C', 1, L - 2 * reach)`; the last
   * gives the graph output.
   */
  models: Uint8Array[];
  /** Positions each stage drops on each side of its input; they sum to the context / 2. */
  reach: number[];
  /** Channels of the state after each stage but the last. */
  channels: number[];
  /** The tensor layout of every stage (that of the builder). */
  layout: ConvLayout;
  /** Names of the first stage's input and the last stage's output. */
  inputName: string;
  outputName: string;
}

/** Input and output names of stage graphs. */
export const STATE_INPUT = 'state';
export const STATE_OUTPUT = 'next_state';

type TrimPlan = Map<number, readonly [number, number]>;

interface GraphPlan {
  outId: number;
  /** Prepended to the names of this network's values (not the shared input): `m<k>_` in an ensemble. */
  prefix: string;
  needed: ReadonlySet<number>;
  /** Conv id -> the batch norm folded into it. */
  foldedInto: ReadonlyMap<number, number>;
  /** Value id -> the last needed layer reading it. */
  lastUse: ReadonlyMap<number, number>;
}

interface Emitted {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
}

/** The ONNX IR version and default-domain opset emitted; both load in onnxruntime >= 1.14. */
export const IR_VERSION = 8;
export const OPSET_VERSION = 17;
const INT64_MAX = (1n << 63n) - 1n;

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
    const convLayout = options.convLayout ?? 'conv2d';
    if (convLayout === 'conv1d' && (options.batchNormForm === 'conv' || options.cropForm === 'conv')) {
      throw new InvalidArgumentError("batchNormForm 'conv' and cropForm 'conv' need convLayout 'conv2d'");
    }
    this.options = {
      name: options.name ?? 'splice-model',
      inputChannels: options.inputChannels ?? 4,
      convLayout,
      foldBatchNorm: options.foldBatchNorm ?? true,
      trimToNeeded: options.trimToNeeded ?? true,
      batchNormForm: options.batchNormForm ?? (convLayout === 'conv2d' ? 'conv' : 'node'),
      cropForm: options.cropForm ?? (convLayout === 'conv2d' ? 'conv' : 'slice'),
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
    const pads: readonly [number, number] =
      padding === 'same' ? [Math.floor(span / 2), span - Math.floor(span / 2)] : padding === 'valid' ? [0, 0] : padding;
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
      throw new InvalidArgumentError(
        `add: operands differ (channels ${a.channels} vs ${b.channels}, positions lost ${a.context} vs ${b.context})`,
      );
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
  static buildMean(members: readonly RecordedNetwork[]): Uint8Array {
    return SpliceGraphBuilder.buildMeans([members]);
  }

  /**
   * `buildMean` for several groups of networks over the same input: the output holds each group's
   * mean in turn on the channel axis (`(N, groups x C, ...)`), in one graph and one session. A set
   * whose files are different heads, each trained as several replicates (Pangolin: 8 heads x 3
   * replicates, one output track per head), runs this way. One group gives what `buildMean` gives.
   */
  static buildMeans(groups: readonly (readonly RecordedNetwork[])[]): Uint8Array {
    const members = flattenGroups(groups);
    const { builder: lead, output } = checkMembers(members);
    const emitted: Emitted = { nodes: [], initializers: [] };
    const outputs = members.map(({ builder, output: out }, k) => {
      const plan = builder.analyze(out, memberPrefix(members.length, k));
      const trim = builder.options.trimToNeeded ? builder.planTrim(plan, 1, plan.outId, new Map([[0, [0, 0]]])) : undefined;
      builder.emitLayers(plan, trim, 1, plan.outId, emitted);
      return builder.nameOf(plan, plan.outId);
    });
    emitGroupMeans(emitted, outputs, groups, lead.options.outputName);
    const declared = lead.valueDeclaration(lead.options.outputName, groups.length * output.channels, output.context === 0 ? 'length' : 'out_length');
    return lead.encode(emitted, output.context, lead.inputDeclaration(), declared, members.length);
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
   * member's part, the state is the members' states side by side on the channel axis, and the last
   * stage averages. Undefined unless every member cuts into stages of the same reaches.
   */
  static buildStagedMean(members: readonly RecordedNetwork[], options: StagingOptions = {}): StagedGraphs | undefined {
    return SpliceGraphBuilder.buildStagedMeans([members], options);
  }

  /** `buildStaged` for the group means of `buildMeans`: the last stage averages each group. */
  static buildStagedMeans(groups: readonly (readonly RecordedNetwork[])[], options: StagingOptions = {}): StagedGraphs | undefined {
    const members = flattenGroups(groups);
    const { builder: lead, output } = checkMembers(members);
    if (!lead.options.trimToNeeded || output.context % 2 !== 0) return undefined;
    const half = output.context / 2;
    const cutPlans: { builder: SpliceGraphBuilder; plan: GraphPlan; cuts: number[] }[] = [];
    for (const [k, { builder, output: out }] of members.entries()) {
      const plan = builder.analyze(out, memberPrefix(members.length, k));
      const whole = builder.planTrim(plan, 1, plan.outId, new Map([[0, [0, 0]]]));
      if (!whole) return undefined;
      const cuts = builder.chooseCuts(plan, whole, half, options.maxStages ?? 3, options.dist ?? 50);
      if (cuts.length === 0 || cuts.length !== (cutPlans[0]?.cuts.length ?? cuts.length)) return undefined;
      cutPlans.push({ builder, plan, cuts });
    }

    const { convLayout: layout, inputName, outputName } = lead.options;
    const result: StagedGraphs = { models: [], reach: [], channels: [], layout, inputName, outputName };
    const at = cutPlans.map(() => ({ from: 1, live: [0] as readonly number[], reached: 0 }));
    const stageCount = cutPlans[0].cuts.length + 1;
    for (let stage = 0; stage < stageCount; stage++) {
      const last = stage === stageCount - 1;
      const emitted: Emitted = { nodes: [], initializers: [] };
      if (stage > 0) {
        emitSplit(
          emitted,
          cutPlans.flatMap(({ builder, plan }, k) => at[k].live.map((v) => ({ name: builder.nameOf(plan, v), channels: builder.values[v].channels }))),
        );
      }
      const outputs: string[] = [];
      const parts: string[] = [];
      const reaches = new Set<number>();
      let channels = 0;
      for (const [k, { builder, plan, cuts }] of cutPlans.entries()) {
        const { from, live, reached } = at[k];
        const to = last ? plan.outId : cuts[stage];
        const trim = builder.planTrim(plan, from, to, new Map(live.map((v) => [v, [reached, reached] as const])));
        if (!trim) return undefined;
        builder.emitLayers(plan, trim, from, to, emitted);
        if (last) {
          outputs.push(builder.nameOf(plan, plan.outId));
          reaches.add(half - reached);
          continue;
        }
        const next = builder.liveAfter(plan, to);
        const sides = next.map((v) => trim.get(v)!);
        const extent = Math.max(...sides.flat());
        // Each crossing value is cropped to the common extent; the state must stay centred.
        if (Math.max(...sides.map((side) => side[0])) !== Math.max(...sides.map((side) => side[1]))) return undefined;
        next.forEach((v, j) => {
          const name = `${plan.prefix}state_part${j}`;
          builder.emitCrop(emitted, name, builder.nameOf(plan, v), builder.values[v].channels, extent - trim.get(v)![0], extent - trim.get(v)![1]);
          parts.push(name);
        });
        channels += sumChannels(builder.values, next);
        reaches.add(extent - reached);
        at[k] = { from: to + 1, live: next, reached: extent };
      }
      if (reaches.size !== 1) return undefined;
      const input = stage === 0 ? lead.inputDeclaration() : lead.valueDeclaration(STATE_INPUT, result.channels[stage - 1], 'length');
      result.reach.push([...reaches][0]);
      if (last) {
        emitGroupMeans(emitted, outputs, groups, outputName);
        result.models.push(lead.encode(emitted, output.context, input, lead.valueDeclaration(outputName, groups.length * output.channels, 'out_length'), members.length));
        break;
      }
      emitted.nodes.push({ opType: 'Concat', name: STATE_OUTPUT, inputs: parts, outputs: [STATE_OUTPUT], attributes: [{ name: 'axis', kind: 'int', value: 1 }] });
      result.models.push(lead.encode(emitted, output.context, input, lead.valueDeclaration(STATE_OUTPUT, channels, 'out_length'), members.length));
      result.channels.push(channels);
    }
    return result;
  }

  /** Which layers the output needs, which batch norms fold into their convolution, and last uses. */
  private analyze(output: GraphValue, prefix = ''): GraphPlan {
    const outId = this.check(output);
    if (outId === 0) throw new InvalidArgumentError('build: the output must be computed from the input, not the input itself');
    const needed = new Set<number>();
    const stack = [outId];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (needed.has(id)) continue;
      needed.add(id);
      stack.push(...inputsOf(this.layers[id]));
    }
    const consumers = new Map<number, number>();
    const lastUse = new Map<number, number>();
    for (const id of needed) {
      for (const i of inputsOf(this.layers[id])) {
        consumers.set(i, (consumers.get(i) ?? 0) + 1);
        lastUse.set(i, Math.max(lastUse.get(i) ?? 0, id));
      }
    }
    // A batch norm folds into a convolution whose output nothing else reads.
    const foldedInto = new Map<number, number>(); // conv id -> batch norm id
    if (this.options.foldBatchNorm) {
      for (const id of needed) {
        const layer = this.layers[id];
        if (layer.kind !== 'batchNorm') continue;
        const src = this.layers[layer.input];
        if (src.kind === 'conv' && consumers.get(layer.input) === 1 && layer.input !== outId) foldedInto.set(layer.input, id);
      }
    }
    return { outId, needed, foldedInto, lastUse, prefix };
  }

  /** Values computed at or before layer `id` that a later needed layer reads. */
  private liveAfter(plan: GraphPlan, id: number): number[] {
    const live: number[] = [];
    for (const v of plan.needed) if (v <= id && (plan.lastUse.get(v) ?? 0) > id) live.push(v);
    return live.sort((a, b) => a - b);
  }

  /**
   * Greedy choice of up to `maxStages - 1` cuts. The cost model: recomputing `2 * dist + 1` outputs
   * around a one-base change, a layer ending stage s must be computed on the part of stage s's
   * output both changed and needed, widened by the reach left in the stage; each conv costs that
   * width times its kernel and channels. A cut is kept only if it saves at least 3%.
   */
  private chooseCuts(plan: GraphPlan, trim: TrimPlan, half: number, maxStages: number, dist: number): number[] {
    const candidates: { id: number; extent: number }[] = [];
    for (let id = 1; id < plan.outId; id++) {
      if (!plan.needed.has(id)) continue;
      const live = this.liveAfter(plan, id);
      if (live.length === 0 || live.length > 2 || live.includes(0) || live.some((v) => plan.foldedInto.has(v))) continue;
      const sides = live.map((v) => trim.get(v)!);
      const left = Math.max(...sides.map((s) => s[0]));
      if (left !== Math.max(...sides.map((s) => s[1])) || left <= 0 || left >= half) continue;
      candidates.push({ id, extent: left });
    }
    const convs = [...plan.needed].filter((id) => this.layers[id].kind === 'conv');
    const cost = (cuts: readonly { id: number; extent: number }[]): number => {
      let total = 0;
      for (const id of convs) {
        const end = cuts.find((c) => c.id >= id);
        const extent = end ? end.extent : half;
        const changed = extent === half ? 2 * dist + 1 : Math.min(2 * dist + 1 + 2 * (half - extent), 1 + 2 * extent);
        const width = Math.max(changed + 2 * (extent - Math.max(...trim.get(id)!)), 0);
        const [out, inC, k] = (this.layers[id] as Extract<Layer, { kind: 'conv' }>).shape;
        total += width * k * inC * out;
      }
      return total;
    };
    let chosen: { id: number; extent: number }[] = [];
    let best = cost(chosen);
    while (chosen.length < maxStages - 1) {
      let pick: { cuts: typeof chosen; cost: number } | undefined;
      for (const c of candidates) {
        if (chosen.includes(c)) continue;
        const cuts = [...chosen, c].sort((a, b) => a.id - b.id);
        const value = cost(cuts);
        if (!pick || value < pick.cost) pick = { cuts, cost: value };
      }
      if (!pick || pick.cost > best * 0.97) break;
      chosen = pick.cuts;
      best = pick.cost;
    }
    return chosen.map((c) => c.id);
  }

  private nameOf(plan: GraphPlan, id: number): string {
    if (id === 0) return this.options.inputName;
    return plan.prefix + (id === plan.outId ? this.options.outputName : `${this.layers[id].kind}_${id}`);
  }

  /** Drops `left` and `right` positions of `input` (`channels` wide), in the builder's crop form. */
  private emitCrop(emitted: Emitted, name: string, input: string, channels: number, left: number, right: number): void {
    if (left === 0 && right === 0) {
      emitted.nodes.push({ opType: 'Identity', name, inputs: [input], outputs: [name] });
      return;
    }
    if (this.options.cropForm === 'conv' && left === right) {
      // out[i] = 0 * x[i] + 1 * x[i + left] + 0 * x[i + 2 * left]: an exact copy for finite x.
      const taps = new Float32Array(channels * 3);
      for (let c = 0; c < channels; c++) taps[c * 3 + 1] = 1;
      emitted.initializers.push(floatTensor(`${name}_taps`, [channels, 1, 1, 3], taps));
      emitted.nodes.push({
        opType: 'Conv',
        name,
        inputs: [input, `${name}_taps`],
        outputs: [name],
        attributes: [
          { name: 'kernel_shape', kind: 'ints', value: [1, 3] },
          { name: 'dilations', kind: 'ints', value: [1, left] },
          { name: 'pads', kind: 'ints', value: [0, 0, 0, 0] },
          { name: 'strides', kind: 'ints', value: [1, 1] },
          { name: 'group', kind: 'int', value: channels },
        ],
      });
      return;
    }
    emitted.initializers.push(int64Tensor(`${name}_starts`, [1], [left]));
    emitted.initializers.push(int64Tensor(`${name}_ends`, [1], [right === 0 ? INT64_MAX : -right]));
    emitted.initializers.push(int64Tensor(`${name}_axes`, [1], [this.options.convLayout === 'conv2d' ? 3 : 2]));
    emitted.nodes.push({ opType: 'Slice', name, inputs: [input, `${name}_starts`, `${name}_ends`, `${name}_axes`], outputs: [name] });
  }

  /** Emits the needed layers with ids in `from..to` as ONNX nodes. */
  private emitLayers(plan: GraphPlan, trim: TrimPlan | undefined, from: number, to: number, emitted: Emitted): void {
    const { convLayout, batchNormForm } = this.options;
    const is2d = convLayout === 'conv2d';
    const { nodes, initializers } = emitted;
    const nameOf = (id: number) => this.nameOf(plan, id);
    const channelShape = (c: number): number[] => (is2d ? [c, 1, 1] : [c, 1]);

    const emitConv = (id: number, conv: Extract<Layer, { kind: 'conv' }>, bn?: BatchNormParams): void => {
      const [out, inC, k] = conv.shape;
      let { weight, bias } = conv;
      if (bn) ({ weight, bias } = foldBatchNormIntoConv(weight, bias, out, bn));
      const w = `${nameOf(id)}_weight`;
      initializers.push(floatTensor(w, is2d ? [out, inC, 1, k] : [out, inC, k], weight));
      const inputs = [nameOf(conv.input), w];
      const pads = trim ? [0, 0] : conv.pads;
      if (bias) {
        initializers.push(floatTensor(`${nameOf(id)}_bias`, [out], bias));
        inputs.push(`${nameOf(id)}_bias`);
      }
      nodes.push({
        opType: 'Conv',
        name: nameOf(id),
        inputs,
        outputs: [nameOf(id)],
        attributes: [
          { name: 'kernel_shape', kind: 'ints', value: is2d ? [1, k] : [k] },
          { name: 'dilations', kind: 'ints', value: is2d ? [1, conv.dilation] : [conv.dilation] },
          { name: 'pads', kind: 'ints', value: is2d ? [0, pads[0], 0, pads[1]] : [pads[0], pads[1]] },
          { name: 'strides', kind: 'ints', value: is2d ? [1, 1] : [1] },
          { name: 'group', kind: 'int', value: 1 },
        ],
      });
    };

    for (let id = from; id <= to; id++) {
      if (!plan.needed.has(id) || plan.foldedInto.has(id)) continue;
      const layer = this.layers[id];
      const name = nameOf(id);
      switch (layer.kind) {
        case 'input':
          break;
        case 'conv':
          emitConv(id, layer);
          break;
        case 'batchNorm': {
          const src = this.layers[layer.input];
          if (src.kind === 'conv' && plan.foldedInto.get(layer.input) === id) {
            emitConv(id, { ...src }, layer.params); // the folded conv takes the batch norm's name
            break;
          }
          const c = layer.params.gamma.length;
          if (batchNormForm === 'conv') {
            const { scale, shift } = batchNormAffine(layer.params);
            initializers.push(floatTensor(`${name}_scale`, [c, 1, 1, 1], Float32Array.from(scale)));
            initializers.push(floatTensor(`${name}_shift`, [c], Float32Array.from(shift)));
            nodes.push({
              opType: 'Conv',
              name,
              inputs: [nameOf(layer.input), `${name}_scale`, `${name}_shift`],
              outputs: [name],
              attributes: [
                { name: 'kernel_shape', kind: 'ints', value: [1, 1] },
                { name: 'group', kind: 'int', value: c },
              ],
            });
          } else if (batchNormForm === 'node') {
            const p = layer.params;
            for (const [suffix, data] of [['scale', p.gamma], ['shift', p.beta], ['mean', p.mean], ['var', p.variance]] as const) {
              initializers.push(floatTensor(`${name}_${suffix}`, [c], data));
            }
            nodes.push({
              opType: 'BatchNormalization',
              name,
              inputs: [nameOf(layer.input), `${name}_scale`, `${name}_shift`, `${name}_mean`, `${name}_var`],
              outputs: [name],
              attributes: [{ name: 'epsilon', kind: 'float', value: p.epsilon }],
            });
          } else {
            const { scale, shift } = batchNormAffine(layer.params);
            initializers.push(floatTensor(`${name}_scale`, channelShape(c), Float32Array.from(scale)));
            initializers.push(floatTensor(`${name}_shift`, channelShape(c), Float32Array.from(shift)));
            nodes.push({ opType: 'Mul', name: `${name}_mul`, inputs: [nameOf(layer.input), `${name}_scale`], outputs: [`${name}_scaled`] });
            nodes.push({ opType: 'Add', name, inputs: [`${name}_scaled`, `${name}_shift`], outputs: [name] });
          }
          break;
        }
        case 'relu':
          nodes.push({ opType: 'Relu', name, inputs: [nameOf(layer.input)], outputs: [name] });
          break;
        case 'leakyRelu':
          nodes.push({
            opType: 'LeakyRelu',
            name,
            inputs: [nameOf(layer.input)],
            outputs: [name],
            attributes: [{ name: 'alpha', kind: 'float', value: layer.alpha }],
          });
          break;
        case 'add': {
          // Trimmed operands may be wider than the sum: crop each to the narrowest.
          const target = trim?.get(id) ?? [0, 0];
          const inputs = layer.inputs.map((input, k) => {
            const have = trim?.get(input) ?? [0, 0];
            const [left, right] = [target[0] - have[0], target[1] - have[1]];
            if (left === 0 && right === 0) return nameOf(input);
            this.emitCrop(emitted, `${name}_operand${k}`, nameOf(input), this.values[input].channels, left, right);
            return `${name}_operand${k}`;
          });
          nodes.push({ opType: 'Add', name, inputs, outputs: [name] });
          break;
        }
        case 'crop': {
          const have = trim?.get(layer.input) ?? [0, 0];
          this.emitCrop(emitted, name, nameOf(layer.input), this.values[layer.input].channels, layer.left - have[0], layer.right - have[1]);
          break;
        }
        case 'softmax':
          nodes.push({ opType: 'Softmax', name, inputs: [nameOf(layer.input)], outputs: [name], attributes: [{ name: 'axis', kind: 'int', value: 1 }] });
          break;
        case 'sigmoid':
          nodes.push({ opType: 'Sigmoid', name, inputs: [nameOf(layer.input)], outputs: [name] });
          break;
        case 'channels':
          initializers.push(int64Tensor(`${name}_starts`, [1], [layer.start]));
          initializers.push(int64Tensor(`${name}_ends`, [1], [layer.start + layer.count]));
          initializers.push(int64Tensor(`${name}_axes`, [1], [1]));
          nodes.push({ opType: 'Slice', name, inputs: [nameOf(layer.input), `${name}_starts`, `${name}_ends`, `${name}_axes`], outputs: [name] });
          break;
      }
    }
  }

  private inputDeclaration(): OnnxValueInfo {
    return this.valueDeclaration(this.options.inputName, this.options.inputChannels, 'length');
  }

  private valueDeclaration(name: string, channels: number, length: string): OnnxValueInfo {
    const shape = this.options.convLayout === 'conv2d' ? ['batch', channels, 1, length] : ['batch', channels, length];
    return { name, elemType: OnnxDataType.FLOAT, shape };
  }

  private encode(emitted: Emitted, context: number, input: OnnxValueInfo, output: OnnxValueInfo, members: number): Uint8Array {
    return encodeModel({
      irVersion: IR_VERSION,
      opsetVersion: OPSET_VERSION,
      producerName: '@metaspliceai/onnx',
      producerVersion: '0.1.0',
      metadata: { ...this.options.metadata, context: String(context), layout: this.options.convLayout, ...(members > 1 ? { members: String(members) } : {}) },
      graph: { name: this.options.name, nodes: emitted.nodes, initializers: emitted.initializers, inputs: [input], outputs: [output] },
    });
  }

  /**
   * Positions each value of layers `from..to` has lost at its left and right ends beyond the
   * 'same'-padded graph when convolutions run unpadded, starting from `initial` (the values feeding
   * those layers). Undefined when trimming cannot keep the output the same (a crop smaller than
   * what was trimmed before it, or the graph output still trimmed).
   */
  private planTrim(plan: GraphPlan, from: number, to: number, initial: Map<number, readonly [number, number]>): TrimPlan | undefined {
    const trimmed = initial;
    for (let id = from; id <= to; id++) {
      if (!plan.needed.has(id)) continue;
      const layer = this.layers[id];
      const of = (input: number) => trimmed.get(input)!;
      switch (layer.kind) {
        case 'conv':
          trimmed.set(id, [of(layer.input)[0] + layer.pads[0], of(layer.input)[1] + layer.pads[1]]);
          break;
        case 'add': {
          const sides = layer.inputs.map(of);
          trimmed.set(id, [Math.max(...sides.map((t) => t[0])), Math.max(...sides.map((t) => t[1]))]);
          break;
        }
        case 'crop': {
          const have = of(layer.input);
          if (have[0] > layer.left || have[1] > layer.right) return undefined;
          trimmed.set(id, [0, 0]);
          break;
        }
        case 'input':
          break;
        default:
          trimmed.set(id, of(layer.input));
      }
    }
    if (to !== plan.outId) return trimmed;
    const end = trimmed.get(plan.outId)!;
    return end[0] === 0 && end[1] === 0 ? trimmed : undefined;
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

/** The first member, once all agree on what a shared input and a mean output need. */
function checkMembers(members: readonly RecordedNetwork[]): RecordedNetwork {
  if (members.length === 0) throw new InvalidArgumentError('buildMean: no networks given');
  const [first] = members;
  const key = ({ builder: b, output: o }: RecordedNetwork) =>
    JSON.stringify([b.options.convLayout, b.options.inputChannels, b.options.inputName, b.options.outputName, b.options.trimToNeeded, o.channels, o.context]);
  const odd = members.find((m) => key(m) !== key(first));
  if (odd) throw new InvalidArgumentError(`buildMean: networks differ in layout, input, output or context (${key(first)} vs ${key(odd)})`);
  return first;
}

function memberPrefix(count: number, k: number): string {
  return count > 1 ? `m${k}_` : '';
}

/** Names the mean of `outputs` `name`; a single output already has that name. */
function emitMean(emitted: Emitted, outputs: readonly string[], name: string): void {
  if (outputs.length > 1) emitted.nodes.push({ opType: 'Mean', name, inputs: [...outputs], outputs: [name] });
}

/**
 * Names `name` the group means of `outputs` (the members' outputs, groups in order) side by side on
 * the channel axis; one group is `emitMean`. ONNX `Mean` sums its inputs in order, then divides.
 */
function emitGroupMeans(emitted: Emitted, outputs: readonly string[], groups: readonly (readonly unknown[])[], name: string): void {
  if (groups.length === 1) return emitMean(emitted, outputs, name);
  let next = 0;
  const means = groups.map((group, g) => {
    const mean = `${name}_group${g}`;
    emitted.nodes.push({ opType: 'Mean', name: mean, inputs: outputs.slice(next, next + group.length), outputs: [mean] });
    next += group.length;
    return mean;
  });
  emitted.nodes.push({ opType: 'Concat', name, inputs: means, outputs: [name], attributes: [{ name: 'axis', kind: 'int', value: 1 }] });
}

/** The members of every group, in order; no group may be empty. */
function flattenGroups(groups: readonly (readonly RecordedNetwork[])[]): RecordedNetwork[] {
  if (groups.length === 0 || groups.some((g) => g.length === 0)) throw new InvalidArgumentError('buildMeans: every group needs at least one network');
  return groups.flat();
}

/** Splits a stage's input state back into the values that crossed the cut. */
function emitSplit(emitted: Emitted, values: readonly { name: string; channels: number }[]): void {
  const names = values.map((v) => v.name);
  if (values.length === 1) {
    emitted.nodes.push({ opType: 'Identity', name: names[0], inputs: [STATE_INPUT], outputs: names });
    return;
  }
  emitted.initializers.push(int64Tensor('state_split', [values.length], values.map((v) => v.channels)));
  emitted.nodes.push({ opType: 'Split', name: 'state_split', inputs: [STATE_INPUT, 'state_split'], outputs: names, attributes: [{ name: 'axis', kind: 'int', value: 1 }] });
}

function inputsOf(layer: Layer): readonly number[] {
  switch (layer.kind) {
    case 'input':
      return [];
    case 'add':
      return layer.inputs;
    default:
      return [layer.input];
  }
}

function sumChannels(values: readonly GraphValue[], ids: readonly number[]): number {
  return ids.reduce((sum, id) => sum + values[id].channels, 0);
}

function positiveInteger(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what}: expected a positive integer, got ${n}`);
}

function nonNegativeInteger(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${what}: expected a non-negative integer, got ${n}`);
}
