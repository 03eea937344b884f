import {
  type BaseModelAdapter,
  InvalidArgumentError,
  type LoadedModel,
  type LoadEnsembleOptions,
  type LoadOptions,
  ModelFileError,
  oneOf,
  optionsObject,
  parseOptions,
  SPECIFICATION_VERSION,
  wholeNumber,
} from '@metaspliceai/core';
import { isOnnxRuntimeAvailable } from '@metaspliceai/onnx';
import { chooseBackend, createModel, createOnnxEnsemble, type SpliceAIBackend } from './backends.js';
import { SPLICEAI_CATALOGUE } from './catalogue.js';
import { inspectKerasModel, type KerasGraph, readKerasModel } from './keras/index.js';
import { spliceAIModelInfoSchema } from './metadata.js';
import { parseSpliceAIPath, SPLICEAI_FILE_PATTERNS } from './paths.js';
import { detectTfjsBackends } from './tfjs/index.js';

export const SPLICEAI_LICENSE = 'CC BY-NC 4.0';

/** `createSpliceAIAdapter(options)`, checked with core's shared message. */
export const spliceAIAdapterOptionsSchema = optionsObject({
  backend: oneOf(['auto', 'onnx', 'tfjs']).optional(),
  threads: wholeNumber({ min: 1 }).optional(),
});

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
  parseOptions(spliceAIAdapterOptionsSchema, options, { owner: 'createSpliceAIAdapter' });
  return {
    specificationVersion: SPECIFICATION_VERSION,
    id: 'spliceai',
    displayName: 'SpliceAI (Illumina)',
    capabilities: { devices: ['cpu', 'gpu'], backends: ['onnx', 'tfjs'], contexts: [80, 400, 2000, 10000], maxBatchSize: 64 },
    filePatterns: SPLICEAI_FILE_PATTERNS,
    defaultLicense: SPLICEAI_LICENSE,
    // Every member predicts the same neither/acceptor/donor softmax (SPLICE_CLASS_TRACKS): a set is their mean.
    ensemble: 'mean',
    scoring: { defaultRule: 'spliceai', variantEncoding: 'spliceai' },
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
      const wanted = wantedBackend(backend ?? options.backend);
      const graph = await readGraph(file, context);
      const chosen = wanted === 'auto' ? (await chooseBackend(graph, device)).backend : wanted;
      return createModel(graph, chosen, { device, threads: threads ?? options.threads });
    },

    /** On onnx, every member in one graph and one session, averaged in the graph. */
    async loadEnsemble({ files, context, backend, device = 'cpu', threads }: LoadEnsembleOptions): Promise<LoadedModel | undefined> {
      const wanted = wantedBackend(backend ?? options.backend);
      if (files.length < 2 || wanted === 'tfjs') return undefined;
      const graphs = await Promise.all(files.map((file) => readGraph(file, context)));
      if (wanted === 'auto' && (await chooseBackend(graphs[0], device)).backend !== 'onnx') return undefined;
      return createOnnxEnsemble(graphs, { device, threads: threads ?? options.threads });
    },
  };
}

function wantedBackend(backend: string | undefined): 'auto' | SpliceAIBackend {
  const wanted = backend ?? 'auto';
  if (wanted !== 'auto' && wanted !== 'onnx' && wanted !== 'tfjs') {
    throw new InvalidArgumentError(`SpliceAI has no backend "${wanted}"; choose auto, onnx or tfjs`);
  }
  return wanted;
}

async function readGraph(file: string, context: number): Promise<KerasGraph> {
  const graph = await readKerasModel(file);
  if (graph.context !== context) {
    throw new ModelFileError(file, `the network is a ${graph.context}-nt model, but context ${context} was asked for`);
  }
  return graph;
}
