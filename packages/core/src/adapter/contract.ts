import type { z } from 'zod';
import type { ModelInfo } from '../metadata/schema.js';
import type { VariantEncoding } from '../sequence/variant-encoding.js';

/**
 * The version of the adapter contract this core speaks. Adapters declare it; register() checks it.
 * v2 (from v1): a loaded model declares its output `tracks` (any number, found by name/kind, never
 * reordered by core) instead of the adapter's three `outputClasses`; adapters declare `ensemble`
 * (how a set combines) and `scoring` (default variant rule and ALT encoding).
 */
export const SPECIFICATION_VERSION = 'v2' as const;
export type SpecificationVersion = typeof SPECIFICATION_VERSION;

/** The three class names of a splice-site classifier's softmax, as `model_info.json` lists them. */
export const OUTPUT_CLASSES = ['neither', 'acceptor', 'donor'] as const;
export type OutputClass = (typeof OUTPUT_CLASSES)[number];

/** What a track's values mean. */
export type TrackKind = 'class-probability' | 'site-probability' | 'usage';

/** One value per position a model predicts; writers, scoring rules and checks find tracks by name/kind. */
export interface OutputTrack {
  /** Column / track name: `neither`, `acceptor`, `donor`; tissue models e.g. `p_splice_heart`, `usage_heart`. */
  readonly name: string;
  readonly kind: TrackKind;
  /** Which splice sites the values speak of: an acceptor/donor class, any site, or none (the `neither` class). */
  readonly site?: 'acceptor' | 'donor' | 'any' | 'none';
  /** The tissue, when the track is tissue-specific. */
  readonly tissue?: string;
}

/**
 * The tracks of a 3-class splice-site softmax (neither, acceptor, donor), in that order. Families
 * whose network outputs another order declare their own list in that order.
 */
export const SPLICE_CLASS_TRACKS: readonly OutputTrack[] = Object.freeze([
  Object.freeze({ name: 'neither', kind: 'class-probability', site: 'none' }),
  Object.freeze({ name: 'acceptor', kind: 'class-probability', site: 'acceptor' }),
  Object.freeze({ name: 'donor', kind: 'class-probability', site: 'donor' }),
] as const);

/** Plain data about a family's variant scoring, so core and the CLI never branch on a family id. */
export interface ScoringDeclaration {
  /** The scoring rule `score` uses when none is asked for (e.g. `spliceai`). */
  defaultRule: string;
  /**
   * How variant windows (genome and ALT) are encoded: `spliceai`, SpliceAI's byte-mod-5 rule;
   * `acgt`, only A, C, G, T (any case) are bases, everything else is N (see `VariantEncoding`).
   */
  variantEncoding: VariantEncoding;
}

export type Device = 'cpu' | 'gpu';

/** Plain data the CLI and the conformance kit read instead of probing the adapter. */
export interface AdapterCapabilities {
  devices: readonly Device[];
  /** Runtimes the adapter can run on, e.g. `['onnx', 'tfjs']`; the first is the default. */
  backends: readonly string[];
  /** Context windows (total flank, in nt) this family is known to come in. */
  contexts: readonly number[];
  /** The largest batch `predict` accepts in one call; core splits larger work. */
  maxBatchSize: number;
}

/** What an adapter reads from a path alone, before opening the file. Only a hint. */
export interface PathHints {
  /** The model set (ensemble) the file belongs to, e.g. `spliceai`, `openspliceai-mane`. */
  setName: string;
  /** A context read from the name (`10000nt`, `10k`, `SpliceNet400_`), if any. */
  context?: number;
  /** The member's id inside its set, e.g. `rs10` or `spliceai3`. */
  memberId: string;
}

/** What an adapter reads from the weights themselves, without loading a runtime. */
export interface ModelFileInspection {
  /** Total flank in nt (the model sees context/2 on each side of a position). */
  context: number;
  /** A short architecture label, e.g. `SpliceNet-10000 (16 residual units, 32 channels)`. */
  architecture: string;
  /** Every stored weight value, BatchNorm running statistics included (Keras's count_params). */
  parameterCount: number;
  /** The on-disk format, e.g. `keras-h5`, `pytorch-state-dict`, `onnx`. */
  format: string;
}

/**
 * A batch of tiles to predict: `batch` rows of `length` nucleotide codes each (0 = N, 1 = A, 2 = C,
 * 3 = G, 4 = T; see `sequence/encoding.ts`). Codes rather than one-hot so each adapter builds the
 * tensor layout its runtime wants without a transpose.
 */
export interface PredictBatch {
  codes: Uint8Array;
  batch: number;
  length: number;
}

/**
 * One loaded model. `predict` returns, for each tile, the values of the `length - context` central
 * positions, row-major `(batch, length - context, tracks.length)`, in `tracks` order. Core never
 * reorders tracks: consumers find them by name or kind.
 */
export interface LoadedModel {
  readonly context: number;
  /** What each value of a position's row is, in output order. */
  readonly tracks: readonly OutputTrack[];
  readonly backend: string;
  readonly device: Device;
  predict(batch: PredictBatch): Promise<Float32Array>;
  /** Optional: the same network in stages, so variant scoring recomputes only what a variant changes. */
  readonly stages?: StagedNetwork;
  dispose(): Promise<void>;
}

/** A state between stages: `(batch, channels, length)` float32, row-major. */
export interface StageTensor {
  data: Float32Array;
  batch: number;
  channels: number;
  length: number;
}

/**
 * Optional part of a `LoadedModel`: its network cut into consecutive stages that compute exactly
 * what `predict` computes. Stage `i` maps a state of length `L` to one of length `L - 2 * reach[i]`,
 * unpadded: output `j` sees inputs `j .. j + 2 * reach[i]` and no others, so a change at one input
 * position changes only the `2 * reach[i] + 1` outputs around it. The reaches sum to `context / 2`.
 * Variant scoring keeps the reference's states and recomputes a substitution's cone only.
 */
export interface StagedNetwork {
  readonly reach: readonly number[];
  /** Channels of the state each stage but the last returns. */
  readonly channels: readonly number[];
  /** Stage 0, from nucleotide codes. */
  runFirst(batch: PredictBatch): Promise<StageTensor>;
  /** Stage `stage`, for `0 < stage < reach.length - 1`. */
  runMiddle(stage: number, state: StageTensor): Promise<StageTensor>;
  /** The last stage: rows `(batch, length - 2 * reach[last], tracks.length)` as `predict` returns them. */
  runLast(state: StageTensor): Promise<Float32Array>;
  /** Optional: what rescoring one base change costs, for benchmarks to say how close to the floor they run. */
  coneCost?(dist: number): ConeCost;
}

/**
 * Convolution multiply-adds to rescore the `2 * dist + 1` outputs around a one-base change: with a
 * `StagedNetwork`'s cuts, and in the minimal cone (each layer computed only where it both differs
 * from the reference and is needed), the floor for any exact recomputation.
 */
export interface ConeCost {
  staged: number;
  minimal: number;
}

export interface LoadOptions {
  /** Absolute path of one member file. */
  file: string;
  /** The context the manager resolved for it (from inspection). */
  context: number;
  /** One of `capabilities.backends`, or `auto`. */
  backend?: string;
  device?: Device;
  /** Intra-op threads for CPU runtimes; default: all cores. */
  threads?: number;
}

/** `LoadOptions` for every member of a set at once (see `BaseModelAdapter.loadEnsemble`). */
export interface LoadEnsembleOptions extends Omit<LoadOptions, 'file'> {
  /** Absolute paths of the members, in the set's order. */
  files: readonly string[];
  /**
   * The track names the caller will read (default: all). A hint: an adapter whose members each
   * compute some tracks may build only those (e.g. a scoring rule reading 4 of 8 tracks runs half
   * the networks); the model still declares exactly the tracks it returns, these among them.
   */
  tracks?: readonly string[];
}

/** A set of files an adapter knows how to fetch from its public upstream (used by `models pull`). */
export interface KnownModelSet {
  setName: string;
  context: number;
  license: string;
  sourceUrl: string;
  citation?: string;
  species?: string;
  files: readonly { name: string; url: string; sha256: string; size: number }[];
  /** Where under the models root the files go, e.g. `spliceai` or `openspliceai/openspliceai-mane/10000nt`. */
  directory: string;
}

/**
 * How a set's members combine into one model. `mean`: the members predict the same tracks and the
 * set is their float32 mean, so core may load them one by one with `load` and average. `adapter`:
 * only the adapter knows how (e.g. one member per track and replicate), so `loadEnsemble` is
 * required and core never averages.
 */
export type EnsembleKind = 'mean' | 'adapter';

/**
 * The contract every base-model family implements (specification v2). The pure parts (patterns,
 * path hints, inspection, metadata schema) need no runtime; only `load` brings one in, lazily.
 */
export interface BaseModelAdapter {
  readonly specificationVersion: SpecificationVersion;
  /** Stable id used on the command line and in metadata, e.g. `spliceai`. */
  readonly id: string;
  readonly displayName: string;
  readonly capabilities: AdapterCapabilities;
  /** Tested against each file's path relative to the models root, with `/` separators. */
  readonly filePatterns: readonly RegExp[];
  /** The licence of the weights this family is published under, shown when they are listed or loaded. */
  readonly defaultLicense?: string;
  /** How a set's members combine (see `EnsembleKind`). */
  readonly ensemble: EnsembleKind;
  /**
   * The tracks a whole set of this family predicts, known without loading it, so `index` and
   * `pull` can record them in model_info.json. Default: the three splice classes.
   */
  readonly setTracks?: readonly OutputTrack[];
  /** The family's default variant scoring rule and ALT encoding. */
  readonly scoring: ScoringDeclaration;
  /** Core's model_info schema, extended with this family's fields. */
  readonly metadataSchema: z.ZodType<ModelInfo>;
  /** Public sets this adapter can download. */
  readonly catalogue?: readonly KnownModelSet[];
  parsePath(relativePath: string): PathHints;
  /** This family's model_info.json fields for a set (species, seeds, ...), written by `index`. */
  describeSet?(set: { name: string; context: number; memberIds: readonly string[] }): Record<string, unknown>;
  inspect(file: string): Promise<ModelFileInspection>;
  /** Lines saying which runtimes are installed and usable (shown by the health check). */
  describeRuntimes?(): Promise<string[]>;
  load(options: LoadOptions): Promise<LoadedModel>;
  /**
   * A whole set as one model. For `ensemble: 'mean'` (optional): `predict` (and `stages`, if any)
   * give the float32 mean of the members, e.g. one runtime session for every member, which runs
   * faster and holds less memory than one session each; undefined where the backend or device has
   * no such form, and core then loads the members one by one with `load` and averages them itself.
   * For `ensemble: 'adapter'` (required): the set as the adapter combines it; undefined is an error.
   */
  loadEnsemble?(options: LoadEnsembleOptions): Promise<LoadedModel | undefined>;
}
