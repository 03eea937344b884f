import { InvalidArgumentError, oneHotChannelsLast, type Device, type LoadedModel, SPLICE_CLASS_TRACKS, type PredictBatch } from '@metaspliceai/core';
import type { Tensor, Tensor1D, Tensor3D, Tensor4D } from '@tensorflow/tfjs-core';
import type { KerasActivation, KerasGraph } from '../keras/graph.js';
import { planGraph, stepInputs, type PlanStep } from './plan.js';
import { loadTfjsRuntime, type Tf, type TfjsRuntime } from './backend.js';

/** Options for {@link createTfjsModel}. */
export interface TfjsModelOptions {
  /** Intra-op threads for tfjs-node (tfjs' wasm backend runs single-threaded in Node). */
  threads?: number;
  /** `gpu` needs @tensorflow/tfjs-node-gpu. Default `cpu`. */
  device?: Device;
  /** Force a flavour; `auto` (default) prefers tfjs-node and falls back to wasm. */
  prefer?: 'auto' | 'node' | 'wasm';
}

/** A step's weights as tensors, built once at load. */
interface StepTensors {
  /** Conv kernels as `(1, k, in, out)`: a 1-D convolution run as a 2-D one of height 1. */
  filter?: Tensor4D;
  bias?: Tensor1D;
  mean?: Tensor1D;
  variance?: Tensor1D;
  gamma?: Tensor1D;
  beta?: Tensor1D;
}

/**
 * Runs a {@link KerasGraph} with TensorFlow.js, layer by layer with tfjs ops (each inner BN and
 * relu folded into its convolution, see `plan.ts`), so no Keras JSON
 * loader (tfjs-layers has no Cropping1D) and no converted model file are needed. Channels-last
 * throughout, which is Keras' layout: kernels are used as stored. The runtime is imported here,
 * lazily, so reading and inspecting models never needs TensorFlow.js.
 */
export async function createTfjsModel(graph: KerasGraph, options: TfjsModelOptions = {}): Promise<LoadedModel> {
  for (const layer of graph.layers) {
    const c = layer.conv;
    if (c && c.kernel.length !== c.kernelShape[0] * c.kernelShape[1] * c.kernelShape[2]) {
      throw new InvalidArgumentError(`${graph.file}: layer ${layer.name} has no weight values; read the graph with readKerasModel`);
    }
  }
  const runtime = await loadTfjsRuntime(options);
  return new TfjsKerasModel(graph, runtime);
}

class TfjsKerasModel implements LoadedModel {
  readonly context: number;
  readonly tracks = SPLICE_CLASS_TRACKS;
  readonly backend: string;
  readonly device: Device;
  private readonly tf: Tf;
  private readonly steps: PlanStep[];
  private weights: Map<string, StepTensors> | undefined;
  /** How many steps read each step's output (+1 for the model output), to free tensors early. */
  private readonly readers = new Map<string, number>();

  constructor(
    private readonly graph: KerasGraph,
    private readonly runtime: TfjsRuntime,
  ) {
    this.context = graph.context;
    this.backend = runtime.backend;
    this.device = runtime.device;
    this.tf = runtime.tf;
    this.steps = planGraph(graph);
    this.weights = this.uploadWeights();
    for (const step of this.steps) {
      for (const input of stepInputs(step)) this.readers.set(input, (this.readers.get(input) ?? 0) + 1);
    }
    this.readers.set(graph.output, (this.readers.get(graph.output) ?? 0) + 1);
  }

  private uploadWeights(): Map<string, StepTensors> {
    const tf = this.tf;
    const weights = new Map<string, StepTensors>();
    for (const step of this.steps) {
      if (step.kind === 'conv') {
        weights.set(step.name, {
          filter: tf.tensor4d(step.kernel, [1, ...step.kernelShape], 'float32'),
          bias: tf.tensor1d(step.bias, 'float32'),
        });
      } else if (step.kind === 'batchNorm') {
        const bn = step.layer;
        weights.set(step.name, {
          mean: tf.tensor1d(bn.mean, 'float32'),
          variance: tf.tensor1d(bn.variance, 'float32'),
          gamma: tf.tensor1d(bn.gamma, 'float32'),
          beta: tf.tensor1d(bn.beta, 'float32'),
        });
      }
    }
    return weights;
  }

  async predict(batch: PredictBatch): Promise<Float32Array> {
    const weights = this.weights;
    if (weights === undefined) throw new InvalidArgumentError('predict() was called after dispose()');
    const { codes, batch: rows, length } = batch;
    if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(length) || codes.length !== rows * length) {
      throw new InvalidArgumentError(`predict: codes has ${codes.length} values, expected batch ${rows} x length ${length}`);
    }
    if (length <= this.context) {
      throw new InvalidArgumentError(`predict: tiles of ${length} nt leave no output; this model needs more than ${this.context}`);
    }
    const tf = this.tf;
    // TensorFlow.js has one global engine; another model may have switched it meanwhile.
    if (tf.getBackend() !== this.runtime.engineBackend) await tf.setBackend(this.runtime.engineBackend);
    // The wasm backend runs one tile per pass: it is as fast per tile as a batch (~650 ms per
    // 15000-nt tile either way) and the wasm heap, which never shrinks, only grows to one tile's
    // working set. Native TensorFlow takes the whole batch, which its thread pool can split.
    const perPass = this.runtime.engineBackend === 'wasm' ? 1 : rows;
    const rowSize = (length - this.context) * this.graph.outputChannels;
    const result = new Float32Array(rows * rowSize);
    for (let first = 0; first < rows; first += perPass) {
      const count = Math.min(perPass, rows - first);
      const slice = codes.subarray(first * length, (first + count) * length);
      const output = tf.tidy(() => this.forward(weights, slice, count, length));
      try {
        const data = (await output.data()) as Float32Array;
        if (data.length !== count * rowSize) throw new Error(`the network returned ${data.length} values, expected ${count * rowSize}`);
        result.set(data, first * rowSize);
      } finally {
        output.dispose();
      }
    }
    return result;
  }

  /** One pass through the plan; intermediate tensors are freed as soon as their last reader ran. */
  private forward(weights: Map<string, StepTensors>, codes: Uint8Array, rows: number, length: number): Tensor {
    const tf = this.tf;
    const values = new Map<string, Tensor3D>();
    const left = new Map(this.readers);
    for (const step of this.steps) {
      const inputs = stepInputs(step);
      let out: Tensor3D;
      if (step.kind === 'input') {
        const x = oneHotChannelsLast(codes, rows, length);
        out = tf.tensor3d(x, [rows, length, this.graph.inputChannels]);
      } else {
        out = this.apply(
          step,
          weights.get(step.name),
          inputs.map((name) => values.get(name)!),
        );
      }
      values.set(step.name, out);
      for (const name of inputs) {
        const remaining = left.get(name)! - 1;
        left.set(name, remaining);
        if (remaining === 0) values.get(name)!.dispose();
      }
    }
    return values.get(this.graph.output)!;
  }

  private apply(step: PlanStep, w: StepTensors | undefined, inputs: Tensor3D[]): Tensor3D {
    const tf = this.tf;
    const x = inputs[0]!;
    switch (step.kind) {
      case 'conv': {
        // As a 2-D convolution of height 1, so bias and relu fuse into it. tfjs' 'same' padding
        // matches TensorFlow's for dilated kernels (the smaller half of the padding on the left).
        const [batch, length, channels] = x.shape;
        const y = tf.fused.conv2d({
          x: tf.reshape(x, [batch, 1, length, channels]) as Tensor4D,
          filter: w!.filter!,
          strides: 1,
          pad: step.padding,
          dilations: [1, step.dilation],
          bias: w!.bias,
          activation: step.activation === 'relu' ? 'relu' : 'linear',
        });
        const out = tf.reshape(y, [batch, y.shape[2], y.shape[3]]) as Tensor3D;
        return step.activation === 'softmax' ? tf.softmax(out, -1) : out;
      }
      case 'batchNorm':
        return tf.batchNorm(x, w!.mean!, w!.variance!, w!.beta!, w!.gamma!, step.layer.epsilon);
      case 'activation':
        // A linear activation gets its own handle, so freeing its input keeps it alive.
        return step.activation === 'linear' ? tf.clone(x) : activate(tf, x, step.activation);
      case 'add':
        return (inputs.length === 2 ? tf.add(inputs[0]!, inputs[1]!) : tf.addN(inputs)) as Tensor3D;
      case 'crop': {
        const [a, b] = step.crop;
        return tf.slice(x, [0, a, 0], [-1, x.shape[1] - a - b, -1]);
      }
      default:
        throw new Error(`step ${step.name} (${step.kind}) cannot be applied here`);
    }
  }

  async dispose(): Promise<void> {
    const weights = this.weights;
    this.weights = undefined;
    for (const step of weights?.values() ?? []) {
      for (const tensor of Object.values(step)) (tensor as Tensor | undefined)?.dispose();
    }
  }
}

/** Keras applies softmax over the last axis, which is the channel axis here. */
function activate(tf: Tf, x: Tensor3D, activation: KerasActivation): Tensor3D {
  if (activation === 'relu') return tf.relu(x);
  if (activation === 'softmax') return tf.softmax(x, -1);
  return x;
}
