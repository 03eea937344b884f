/**
 * The neutral description of a Keras SpliceAI network: what the .h5 file says, validated, with no
 * runtime attached. Every runtime (TensorFlow.js, an ONNX exporter, a test reference) builds from
 * this, so the file is parsed and checked in one place only.
 */

/** The Keras layer classes a SpliceAI file contains; anything else is refused when the file is read. */
export const KERAS_LAYER_KINDS = ['InputLayer', 'Conv1D', 'BatchNormalization', 'Activation', 'Add', 'Cropping1D'] as const;

/** One of {@link KERAS_LAYER_KINDS}. */
export type KerasLayerKind = (typeof KERAS_LAYER_KINDS)[number];

/** The activations SpliceAI uses; Keras applies softmax over the last (channel) axis. */
export type KerasActivation = 'linear' | 'relu' | 'softmax';

/**
 * A Conv1D layer's settings and weights. The kernel keeps Keras' stored layout `(k, in, out)`, which
 * is also TensorFlow.js' `conv1d` filter layout, so no runtime has to guess a transpose.
 */
export interface KerasConv {
  kernel: Float32Array;
  kernelShape: [number, number, number];
  bias?: Float32Array;
  dilation: number;
  padding: 'same' | 'valid';
  activation: KerasActivation;
}

/**
 * Inference-form batch normalisation: `(x - mean) / sqrt(variance + epsilon) * gamma + beta`.
 * `gamma`/`beta` are filled with ones/zeros when the layer was built without scale/center, so a
 * runtime never has to branch on those flags.
 */
export interface KerasBatchNorm {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  epsilon: number;
}

/** One node of the graph; exactly the field named by `kind` is set (none for InputLayer and Add). */
export interface KerasLayer {
  name: string;
  kind: KerasLayerKind;
  /** Names of the layers feeding this one, in Keras' order. */
  inputs: string[];
  conv?: KerasConv;
  batchNorm?: KerasBatchNorm;
  activation?: KerasActivation;
  /** Positions removed at the start and at the end of the length axis. */
  crop?: [number, number];
}

/**
 * A whole network. `context` is read from the network itself (what it crops), never from the file
 * name, because file names are only hints and the design's guessed names were wrong.
 */
export interface KerasGraph {
  /** The absolute path the graph was read from (for error messages). */
  file: string;
  /** Every layer, inputs before the layers that use them. */
  layers: KerasLayer[];
  input: string;
  output: string;
  /**
   * Total flank in nt: an input of length L gives L - context outputs, and each output sees
   * context/2 positions on each side. Equal to the total crop and to the receptive field.
   */
  context: number;
  /** Channels of the one-hot input (4 for A, C, G, T). */
  inputChannels: number;
  /** Channels of the output (3 for neither, acceptor, donor). */
  outputChannels: number;
  /** Channels of the residual path (32 in every SpliceAI file). */
  channels: number;
  /** Every stored number, trainable or not, as Keras' `count_params` of the whole model counts them. */
  parameterCount: number;
  /** Residual units: each holds two convolutions wider than 1. */
  residualUnits: number;
}
