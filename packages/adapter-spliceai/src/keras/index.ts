/** Reading Keras 2 SpliceAI `.h5` files into a runtime-neutral, validated graph. */
export { readKerasModel } from './read-model.js';
export { inspectKerasModel } from './inspect-model.js';
export { KERAS_LAYER_KINDS } from './graph.js';
export type { KerasActivation, KerasBatchNorm, KerasConv, KerasGraph, KerasLayer, KerasLayerKind } from './graph.js';
