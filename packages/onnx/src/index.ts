/**
 * @metaspliceai/onnx: emits ONNX graphs for SpliceAI-family networks in memory and runs them with
 * onnxruntime-node (a lazily imported peer dependency), behind core's `LoadedModel` contract.
 */
export * from './protobuf.js';
export * from './onnx-proto.js';
export * from './weights.js';
export * from './graph-builder.js';
export * from './layout.js';
// loadOnnxRuntime stays internal: its type names onnxruntime-node, an optional peer dependency.
export { isOnnxRuntimeAvailable } from './runtime.js';
export * from './session.js';
export { type ExecutionProvider, GPU_PROVIDER_ENV, ensembleOptionsFor } from './providers.js';
export * from './inspect-file.js';
