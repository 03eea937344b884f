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
import { type RecordedNetwork, SpliceGraphBuilder, createOnnxModel, ensembleOptionsFor, isOnnxRuntimeAvailable } from '@metaspliceai/onnx';
import { readStateDict, readStateDictIndex } from '@metaspliceai/torch';
import { readPangolinArchitecture } from './architecture.js';
import { PANGOLIN_CATALOGUE, PANGOLIN_CITATION } from './catalogue.js';
import { pangolinModelInfoSchema } from './metadata.js';
import { recordPangolinNetwork } from './network.js';
import { PANGOLIN_FILE_PATTERNS, parsePangolinFileName, parsePangolinPath } from './paths.js';
import { PANGOLIN_HEADS, PANGOLIN_TISSUES, PANGOLIN_TRACKS, type PangolinHead } from './tracks.js';

export const PANGOLIN_LICENSE = 'GPL-3.0';

/** `createPangolinAdapter(options)`, checked with core's shared message. */
export const pangolinAdapterOptionsSchema = optionsObject({ threads: wholeNumber({ min: 1 }).optional() });

export interface PangolinAdapterOptions {
  /** Intra-op threads for CPU sessions (default: every core). */
  threads?: number;
}

function refuseBackend(file: string, backend: string | undefined): void {
  if (backend && backend !== 'auto' && backend !== 'onnx') {
    throw new InvalidArgumentError(`Pangolin runs on the onnx backend: backend must be auto or onnx, got "${backend}" (loading ${file})`, {
      hint: 'leave the backend out, or pass onnx',
    });
  }
}

/** The replicate and head of a file, from its upstream name: the weights do not say which head is meant. */
function memberOf(file: string): { replicate: number; head: PangolinHead } {
  const parsed = parsePangolinFileName(basename(file));
  if (!parsed) {
    throw new ModelFileError(
      file,
      'cannot tell which Pangolin head the file is: every file holds all 8 heads, and only its name says which one it was trained for',
      {
        hint: 'keep the upstream name final.<replicate>.<head>.3.v2 (head 0-7)',
      },
    );
  }
  return { replicate: parsed.replicate, head: PANGOLIN_HEADS[parsed.head] };
}

/** One file's network for its own head, after checking its context. */
async function recordMember(file: string, context: number): Promise<{ replicate: number; head: PangolinHead; network: RecordedNetwork }> {
  const { replicate, head } = memberOf(file);
  const dict = await readStateDict(file);
  const arch = readPangolinArchitecture(file, [...dict.values()]);
  if (arch.context !== context) {
    throw new ModelFileError(file, `the weights are a ${arch.context}-nt model, but context ${context} was asked for`);
  }
  return { replicate, head, network: recordPangolinNetwork(arch, dict, head, `pangolin-rep${replicate}-head${head.index}`) };
}

/**
 * The Pangolin adapter (Zeng & Li, Genome Biology 2022): reads upstream's PyTorch checkpoints with
 * the safe unpickler, builds each file's network for the head it was trained for, and runs a whole
 * set in one ONNX session whose tracks are the heads present (all 8 for the published set:
 * P(splice) and usage for heart, liver, brain and testis), each the float32 mean of its replicates.
 */
export function createPangolinAdapter(options: PangolinAdapterOptions = {}): BaseModelAdapter {
  parseOptions(pangolinAdapterOptionsSchema, options, { owner: 'createPangolinAdapter' });
  return {
    specificationVersion: SPECIFICATION_VERSION,
    id: 'pangolin',
    displayName: 'Pangolin',
    capabilities: { devices: ['cpu', 'gpu'], backends: ['onnx'], contexts: [10000], maxBatchSize: 64 },
    filePatterns: PANGOLIN_FILE_PATTERNS,
    defaultLicense: PANGOLIN_LICENSE,
    // Files are (replicate, head): track i is the mean over replicates of head i's file alone.
    ensemble: 'adapter',
    setTracks: PANGOLIN_TRACKS,
    scoring: { defaultRule: 'pangolin', variantEncoding: 'acgt' },
    metadataSchema: pangolinModelInfoSchema,
    catalogue: PANGOLIN_CATALOGUE,
    parsePath: parsePangolinPath,

    describeSet(set) {
      const members = set.memberIds.map((id) => /^rep(\d+)-head[0-7]$/.exec(id)).filter((m) => m !== null);
      const replicates = [...new Set(members.map((m) => Number(m![1])))].sort((a, b) => a - b);
      return { ...(replicates.length ? { replicates } : {}), tissues: [...PANGOLIN_TISSUES], license: PANGOLIN_LICENSE, citation: PANGOLIN_CITATION };
    },

    async inspect(file: string): Promise<ModelFileInspection> {
      const arch = readPangolinArchitecture(file, await readStateDictIndex(file));
      return {
        context: arch.context,
        architecture: `Pangolin-${arch.context} (${arch.blocks.length} residual blocks, ${arch.channels} channels, ReLU, 8 heads: P(splice) and usage for ${PANGOLIN_TISSUES.join(', ')})`,
        parameterCount: arch.parameterCount,
        format: 'pytorch-state-dict',
      };
    },

    async describeRuntimes() {
      return [`onnxruntime-node: ${(await isOnnxRuntimeAvailable()) ? 'installed' : 'missing (npm install onnxruntime-node)'}`];
    },

    /** One file alone: the one track of the head it was trained for. */
    async load({ file, context, device = 'cpu', threads, backend }: LoadOptions): Promise<LoadedModel> {
      refuseBackend(file, backend);
      const { head, network } = await recordMember(file, context);
      return createOnnxModel({
        context,
        device,
        threads: threads ?? options.threads,
        backendLabel: 'onnx',
        outputActivation: 'none',
        tracks: [head.track],
        modelBytes: network.builder.build(network.output),
        stagedGraphs: () => network.builder.buildStaged(network.output),
        source: file,
      });
    },

    /**
     * A set in one graph and one session: a track per head present (in head order), each the mean
     * of that head's files in replicate order (1, 2, 3 for the published set).
     */
    async loadEnsemble({ files: all, context, device = 'cpu', threads, backend, tracks }: LoadEnsembleOptions): Promise<LoadedModel | undefined> {
      if (all.length === 0) return undefined;
      refuseBackend(all[0], backend);
      for (const file of all) memberOf(file); // a misnamed file fails before any weights are read
      // Asked for some tracks only (a scoring rule): the files of the other heads are not run.
      const wanted = all.filter((file) => !tracks?.length || tracks.includes(memberOf(file).head.track.name));
      const files = wanted.length > 0 ? wanted : all;
      const members = await Promise.all(files.map((file) => recordMember(file, context)));
      // Upstream averages replicates 1, 2, 3 in that order (a float32 sum, then / 3).
      members.sort((a, b) => a.replicate - b.replicate);
      const byHead = new Map<PangolinHead, RecordedNetwork[]>();
      for (const { head, network } of members) byHead.set(head, [...(byHead.get(head) ?? []), network]);
      const heads = PANGOLIN_HEADS.filter((h) => byHead.has(h));
      const counts = new Set(heads.map((h) => byHead.get(h)!.length));
      if (counts.size > 1) {
        throw new ModelFileError(
          dirname(files[0]),
          `the set's heads have different numbers of replicates (${heads.map((h) => `head ${h.index}: ${byHead.get(h)!.length}`).join(', ')})`,
          {
            hint: 'a track is the mean over its replicates: give every head the same replicates (metaspliceai models pull pangolin restores the published 3)',
          },
        );
      }
      const groups = heads.map((h) => byHead.get(h)!);
      return createOnnxModel({
        context,
        device,
        threads: threads ?? options.threads,
        backendLabel: 'onnx',
        memoryArena: true,
        outputActivation: 'none',
        tracks: heads.map((h) => h.track),
        modelBytes: SpliceGraphBuilder.buildMeans(groups, ensembleOptionsFor(device)),
        // The default 6 stages: with the 12 networks' trunk grouped and one cone per call, 200 SNVs
        // in TUBB8 ran at 4.61-4.79 variants/s in 1,358-1,397 MB, against 4.08-4.18 in 914-935 MB
        // with 3 (each stage session keeps its own arena; 21.5 -> 17.1 G multiply-adds per SNV).
        stagedGraphs: () => SpliceGraphBuilder.buildStagedMeans(groups, ensembleOptionsFor(device)),
        source: `${dirname(files[0])} (${files.length} Pangolin files: ${heads.length} heads x ${[...counts][0]} replicates)`,
      });
    },
  };
}
