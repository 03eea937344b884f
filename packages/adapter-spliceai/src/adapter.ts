import {
  type BaseModelAdapter,
  InvalidArgumentError,
  type LoadedModel,
  type LoadOptions,
  ModelFileError,
  SPECIFICATION_VERSION,
} from '@metaspliceai/core';
import { isOnnxRuntimeAvailable } from '@metaspliceai/onnx';
import { chooseBackend, createModel, type SpliceAIBackend } from './backends.js';
import { SPLICEAI_CATALOGUE } from './catalogue.js';
import { inspectKerasModel, readKerasModel } from './keras/index.js';
import { spliceAIModelInfoSchema } from './metadata.js';
import { parseSpliceAIPath, SPLICEAI_FILE_PATTERNS } from './paths.js';
import { detectTfjsBackends } from './tfjs/index.js';

export const SPLICEAI_LICENSE = 'CC BY-NC 4.0';

export interface SpliceAIAdapterOptions {
  /** Default backend when a load names none (default `auto`). */
  backend?: SpliceAIBackend | 'auto';
  threads?: number;
}

/**
 * The SpliceAI adapter: reads Illumina's Keras 2 `.h5` files with HDF5 compiled to WebAssembly (no
 * Python, no TensorFlow install) and runs the network on onnxruntime-node or TensorFlow.js.
 */
export function createSpliceAIAdapter(options: SpliceAIAdapterOptions = {}): BaseModelAdapter {
  return {
    specificationVersion: SPECIFICATION_VERSION,
    id: 'spliceai',
    displayName: 'SpliceAI (Illumina)',
    capabilities: { devices: ['cpu', 'gpu'], backends: ['onnx', 'tfjs'], contexts: [80, 400, 2000, 10000], maxBatchSize: 64 },
    filePatterns: SPLICEAI_FILE_PATTERNS,
    defaultLicense: SPLICEAI_LICENSE,
    outputClasses: ['neither', 'acceptor', 'donor'],
    metadataSchema: spliceAIModelInfoSchema,
    catalogue: SPLICEAI_CATALOGUE,
    parsePath: parseSpliceAIPath,
    inspect: inspectKerasModel,

    describeSet() {
      return { license: SPLICEAI_LICENSE, kerasVersion: '2.0.5' };
    },

    async describeRuntimes() {
      const [ort, tfjs] = await Promise.all([isOnnxRuntimeAvailable(), detectTfjsBackends()]);
      return [`onnxruntime-node: ${ort ? 'installed' : 'missing (npm install onnxruntime-node)'}`, ...tfjs.details];
    },

    async load({ file, context, backend, device = 'cpu', threads }: LoadOptions): Promise<LoadedModel> {
      const wanted = backend ?? options.backend ?? 'auto';
      if (wanted !== 'auto' && wanted !== 'onnx' && wanted !== 'tfjs') {
        throw new InvalidArgumentError(`SpliceAI has no backend "${wanted}"; choose auto, onnx or tfjs`);
      }
      const graph = await readKerasModel(file);
      if (graph.context !== context) {
        throw new ModelFileError(file, `the network is a ${graph.context}-nt model, but context ${context} was asked for`);
      }
      const chosen = wanted === 'auto' ? (await chooseBackend(graph, device)).backend : wanted;
      return createModel(graph, chosen, { device, threads: threads ?? options.threads });
    },
  };
}
