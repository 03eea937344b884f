export { createSpliceAIAdapter, SPLICEAI_LICENSE, type SpliceAIAdapterOptions } from './adapter.js';
export { chooseBackend, type BackendChoice, type SpliceAIBackend } from './backends.js';
export { SPLICEAI_CATALOGUE } from './catalogue.js';
export { spliceAIModelInfoSchema, type SpliceAIModelInfo } from './metadata.js';
export { parseSpliceAIPath, SPLICEAI_FILE_PATTERNS } from './paths.js';
export { kerasGraphToOnnx } from './onnx/graph.js';
export * from './keras/index.js';
export * from './tfjs/index.js';
