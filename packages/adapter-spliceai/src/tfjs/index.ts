/** Running a Keras SpliceAI graph with TensorFlow.js (tfjs-node, tfjs-node-gpu or the wasm backend). */
export { createTfjsModel, type TfjsModelOptions } from './model.js';
export { detectTfjsBackends, type TfjsBackendReport, type TfjsBackendName } from './backend.js';
