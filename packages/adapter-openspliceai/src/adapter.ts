import { basename, dirname } from 'node:path';
import {
  type BaseModelAdapter,
  InvalidArgumentError,
  type LoadedModel,
  type LoadEnsembleOptions,
  type LoadOptions,
  type ModelFileInspection,
  ModelFileError,
  optionsObject,
  parseOptions,
  SPECIFICATION_VERSION,
  wholeNumber,
} from '@metaspliceai/core';
import {
  type RecordedNetwork,
  SpliceGraphBuilder,
  createOnnxModel,
  createOnnxModelFromFile,
  ensembleOptionsFor,
  inspectOnnxFile,
  isOnnxRuntimeAvailable,
} from '@metaspliceai/onnx';
import { readArchitecture } from './architecture.js';
import { OPENSPLICEAI_CATALOGUE } from './catalogue.js';
import { openSpliceAIModelInfoSchema } from './metadata.js';
import { recordOpenSpliceAINetwork } from './network.js';
import { OPENSPLICEAI_FILE_PATTERNS, parseOpenSpliceAIPath } from './paths.js';
import { readStateDict, readStateDictIndex } from '@metaspliceai/torch';

export const OPENSPLICEAI_LICENSE = 'GPL-3.0';

/** `createOpenSpliceAIAdapter(options)`, checked with core's shared message. */
export const openSpliceAIAdapterOptionsSchema = optionsObject({ threads: wholeNumber({ min: 1 }).optional() });

export interface OpenSpliceAIAdapterOptions {
  /** Intra-op threads for CPU sessions (default: every core). */
  threads?: number;
}

const isOnnx = (file: string) => /\.onnx$/i.test(file);

function refuseBackend(file: string, backend: string | undefined): void {
  if (backend && backend !== 'auto' && backend !== 'onnx') {
    throw new InvalidArgumentError(`OpenSpliceAI runs on the onnx backend: backend must be auto or onnx, got "${backend}" (loading ${file})`, {
      hint: 'leave the backend out, or pass onnx',
    });
  }
}

/** A `.pt` checkpoint's network recorded in a graph builder, after checking its flank. */
async function recordCheckpoint(file: string, context: number): Promise<RecordedNetwork> {
  const dict = await readStateDict(file);
  const arch = readArchitecture(file, [...dict.values()]);
  if (arch.flank !== context) {
    throw new ModelFileError(file, `the weights are a ${arch.flank}-nt model, but context ${context} was asked for`);
  }
  return recordOpenSpliceAINetwork(arch, dict, basename(file));
}

/**
 * The OpenSpliceAI adapter: reads the original PyTorch `.pt` checkpoints with a safe unpickler
 * (no Python, no code from the file runs), builds the network as an ONNX graph in memory and runs
 * it on onnxruntime-node; `.onnx` exports of OpenSpliceAI models load directly.
 */
export function createOpenSpliceAIAdapter(options: OpenSpliceAIAdapterOptions = {}): BaseModelAdapter {
  parseOptions(openSpliceAIAdapterOptionsSchema, options, { owner: 'createOpenSpliceAIAdapter' });
  return {
    specificationVersion: SPECIFICATION_VERSION,
    id: 'openspliceai',
    displayName: 'OpenSpliceAI',
    capabilities: { devices: ['cpu', 'gpu'], backends: ['onnx'], contexts: [80, 400, 2000, 10000], maxBatchSize: 64 },
    filePatterns: OPENSPLICEAI_FILE_PATTERNS,
    defaultLicense: OPENSPLICEAI_LICENSE,
    // Every member predicts the same neither/acceptor/donor softmax (SPLICE_CLASS_TRACKS): a set is their mean.
    ensemble: 'mean',
    scoring: { defaultRule: 'spliceai', variantEncoding: 'acgt' },
    metadataSchema: openSpliceAIModelInfoSchema,
    catalogue: OPENSPLICEAI_CATALOGUE,
    parsePath: parseOpenSpliceAIPath,

    describeSet(set) {
      const seeds = set.memberIds
        .map((id) => /^rs(\d+)$/.exec(id))
        .filter((m) => m !== null)
        .map((m) => Number(m![1]));
      const species = /^openspliceai-(.+)$/.exec(set.name)?.[1];
      return { flank: set.context, ...(seeds.length ? { seeds } : {}), ...(species ? { species } : {}), license: OPENSPLICEAI_LICENSE };
    },

    async inspect(file: string): Promise<ModelFileInspection> {
      if (isOnnx(file)) {
        const info = await inspectOnnxFile(file);
        return { context: info.context, architecture: info.architecture, parameterCount: info.parameterCount, format: 'onnx' };
      }
      const arch = readArchitecture(file, await readStateDictIndex(file));
      return {
        context: arch.flank,
        architecture: `SpliceNet-${arch.flank} (${arch.residualUnits} residual units, ${arch.channels} channels, LeakyReLU 0.1)`,
        parameterCount: arch.parameterCount,
        format: 'pytorch-state-dict',
      };
    },

    async describeRuntimes() {
      return [`onnxruntime-node: ${(await isOnnxRuntimeAvailable()) ? 'installed' : 'missing (npm install onnxruntime-node)'}`];
    },

    async load({ file, context, device = 'cpu', threads, backend }: LoadOptions): Promise<LoadedModel> {
      refuseBackend(file, backend);
      const session = { context, device, threads: threads ?? options.threads, backendLabel: 'onnx' };
      if (isOnnx(file)) return createOnnxModelFromFile(file, session);
      const { builder, output } = await recordCheckpoint(file, context);
      return createOnnxModel({ ...session, modelBytes: builder.build(output), stagedGraphs: () => builder.buildStaged(output), source: file });
    },

    /** Every `.pt` member in one graph and one session, averaged in the graph. */
    async loadEnsemble({ files, context, device = 'cpu', threads, backend }: LoadEnsembleOptions): Promise<LoadedModel | undefined> {
      if (files.length < 2 || files.some(isOnnx)) return undefined;
      refuseBackend(files[0], backend);
      const members: RecordedNetwork[] = await Promise.all(files.map((file) => recordCheckpoint(file, context)));
      return createOnnxModel({
        context,
        device,
        threads: threads ?? options.threads,
        backendLabel: 'onnx',
        memoryArena: true,
        modelBytes: SpliceGraphBuilder.buildMean(members, ensembleOptionsFor(device)),
        stagedGraphs: () => SpliceGraphBuilder.buildStagedMean(members, ensembleOptionsFor(device)),
        source: `${dirname(files[0])} (${files.map((f) => basename(f)).join(', ')})`,
      });
    },
  };
}
