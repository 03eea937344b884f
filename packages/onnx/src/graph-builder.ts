/**
 * A layer-level builder for SpliceAI-family graphs (dilated residual 1-D CNNs), neutral to the
 * framework the weights came from: each adapter maps its own file format onto these few layers and
 * gets ONNX `ModelProto` bytes back, ready for onnxruntime.
 *
 * The builder records layers first and lowers them to ONNX nodes in `build`, which is where the
 * speed-relevant choices are made: convolutions as height-1 `Conv2d` (onnxruntime's CPU Conv2d
 * kernels are several times faster than its Conv1d ones), batch norms folded into the convolution
 * they follow.
 */
import { InvalidArgumentError } from '@metaspliceai/core';
import { type OnnxNode, type OnnxTensor, OnnxDataType, encodeModel, floatTensor, int64Tensor } from './onnx-proto.js';
import { type BatchNormParams, batchNormAffine, foldBatchNormIntoConv } from './weights.js';

/**
 * How convolutions are laid out. `conv2d`: tensors are `(N, C, 1, L)` and kernels `(out, in, 1, k)`,
 * the fast form on onnxruntime's CPU provider. `conv1d`: `(N, C, L)` with kernels `(out, in, k)`,
 * kept for comparison and for runtimes that prefer it.
 */
export type ConvLayout = 'conv2d' | 'conv1d';

/** How a batch norm that cannot be folded into a preceding convolution is emitted. */
export type BatchNormForm = 'node' | 'mul-add';

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
  /** Form of the batch norms left after folding (default `node`: ONNX BatchNormalization). */
  batchNormForm?: BatchNormForm;
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
  | { kind: 'softmax'; input: number };

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
    this.options = {
      name: options.name ?? 'splice-model',
      inputChannels: options.inputChannels ?? 4,
      convLayout: options.convLayout ?? 'conv2d',
      foldBatchNorm: options.foldBatchNorm ?? true,
      trimToNeeded: options.trimToNeeded ?? true,
      batchNormForm: options.batchNormForm ?? 'node',
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

  /** Number of layers recorded, the input included. */
  get layerCount(): number {
    return this.layers.length;
  }

  /**
   * Lowers the layers that `output` depends on to ONNX and serializes the model. The graph output is
   * `(N, C, 1, L - context)` (`conv2d`) or `(N, C, L - context)` (`conv1d`), channels-first.
   */
  build(output: GraphValue): Uint8Array {
    const outId = this.check(output);
    if (outId === 0) throw new InvalidArgumentError('build: the output must be computed from the input, not the input itself');
    const { convLayout, batchNormForm, foldBatchNorm, inputName, outputName } = this.options;
    const is2d = convLayout === 'conv2d';

    // Which layers the output needs, and how many of those consume each value.
    const needed = new Set<number>();
    const stack = [outId];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (needed.has(id)) continue;
      needed.add(id);
      stack.push(...inputsOf(this.layers[id]));
    }
    const consumers = new Map<number, number>();
    for (const id of needed) for (const i of inputsOf(this.layers[id])) consumers.set(i, (consumers.get(i) ?? 0) + 1);

    // A batch norm folds into a convolution whose output nothing else reads.
    const foldedInto = new Map<number, number>(); // conv id -> batch norm id
    if (foldBatchNorm) {
      for (const id of needed) {
        const layer = this.layers[id];
        if (layer.kind !== 'batchNorm') continue;
        const src = this.layers[layer.input];
        if (src.kind === 'conv' && consumers.get(layer.input) === 1 && layer.input !== outId) foldedInto.set(layer.input, id);
      }
    }

    const trim = this.options.trimToNeeded ? this.planTrim(needed, outId) : undefined;
    const nameOf = (id: number): string => (id === 0 ? inputName : id === outId ? outputName : `${this.layers[id].kind}_${id}`);
    const nodes: OnnxNode[] = [];
    const initializers: OnnxTensor[] = [];
    const channelShape = (c: number): number[] => (is2d ? [c, 1, 1] : [c, 1]);
    const lengthAxis = is2d ? 3 : 2;

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

    const emitSlice = (name: string, input: string, left: number, right: number): void => {
      if (left === 0 && right === 0) {
        nodes.push({ opType: 'Identity', name, inputs: [input], outputs: [name] });
        return;
      }
      initializers.push(int64Tensor(`${name}_starts`, [1], [left]));
      initializers.push(int64Tensor(`${name}_ends`, [1], [right === 0 ? INT64_MAX : -right]));
      initializers.push(int64Tensor(`${name}_axes`, [1], [lengthAxis]));
      nodes.push({ opType: 'Slice', name, inputs: [input, `${name}_starts`, `${name}_ends`, `${name}_axes`], outputs: [name] });
    };

    for (let id = 1; id < this.layers.length; id++) {
      if (!needed.has(id) || foldedInto.has(id)) continue;
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
          if (src.kind === 'conv' && foldedInto.get(layer.input) === id) {
            emitConv(id, { ...src }, layer.params); // the folded conv takes the batch norm's name
            break;
          }
          const c = layer.params.gamma.length;
          if (batchNormForm === 'node') {
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
            emitSlice(`${name}_operand${k}`, nameOf(input), left, right);
            return `${name}_operand${k}`;
          });
          nodes.push({ opType: 'Add', name, inputs, outputs: [name] });
          break;
        }
        case 'crop': {
          const have = trim?.get(layer.input) ?? [0, 0];
          emitSlice(name, nameOf(layer.input), layer.left - have[0], layer.right - have[1]);
          break;
        }
        case 'softmax':
          nodes.push({ opType: 'Softmax', name, inputs: [nameOf(layer.input)], outputs: [name], attributes: [{ name: 'axis', kind: 'int', value: 1 }] });
          break;
      }
    }

    const outLength = output.context === 0 ? 'length' : 'out_length';
    return encodeModel({
      irVersion: IR_VERSION,
      opsetVersion: OPSET_VERSION,
      producerName: '@metaspliceai/onnx',
      producerVersion: '0.1.0',
      metadata: { ...this.options.metadata, context: String(output.context), layout: convLayout },
      graph: {
        name: this.options.name,
        nodes,
        initializers,
        inputs: [
          {
            name: inputName,
            elemType: OnnxDataType.FLOAT,
            shape: is2d ? ['batch', this.options.inputChannels, 1, 'length'] : ['batch', this.options.inputChannels, 'length'],
          },
        ],
        outputs: [
          {
            name: outputName,
            elemType: OnnxDataType.FLOAT,
            shape: is2d ? ['batch', output.channels, 1, outLength] : ['batch', output.channels, outLength],
          },
        ],
      },
    });
  }

  /**
   * Positions each value has lost at its left and right ends beyond the 'same'-padded graph when
   * convolutions run unpadded. Undefined when trimming cannot keep the output the same (a crop
   * smaller than what was trimmed before it, or an output still trimmed).
   */
  private planTrim(needed: ReadonlySet<number>, outId: number): Map<number, readonly [number, number]> | undefined {
    const trimmed = new Map<number, readonly [number, number]>([[0, [0, 0]]]);
    for (let id = 1; id < this.layers.length; id++) {
      if (!needed.has(id)) continue;
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
    const end = trimmed.get(outId)!;
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

function positiveInteger(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what}: expected a positive integer, got ${n}`);
}

function nonNegativeInteger(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${what}: expected a non-negative integer, got ${n}`);
}
