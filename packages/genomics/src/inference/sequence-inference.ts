import os from 'node:os';
import {
  type CodeSource,
  type Device,
  InvalidArgumentError,
  type LoadedModel,
  type ModelManager,
  type ModelSet,
  type OutputTrack,
  type PackJob,
  parseOptions,
  predictPacked,
  reverseComplementCodes,
} from '@metaspliceai/core';
import { sequenceInferenceOptionsSchema } from './sequence-inference-options.js';
import { type SequenceInput, sequenceInput, type QueryStrand } from './sequence-input.js';

/**
 * What inference returns per position. `base_only` is the base model's own tracks (the
 * ensemble mean). The MetaSpliceAI meta-model modes will attach here: each mode is a stage that
 * turns the base model's event stream into its own (see `InferenceStage`), so writers, batching
 * and the CLI need no change when one is added.
 */
export type InferenceMode = 'base_only';
export const INFERENCE_MODES: readonly InferenceMode[] = ['base_only'];

/**
 * The stream inference produces for each query, in query order: `begin`, then `rows` covering
 * rows 0..length-1 in order, then `end`. Rows are in the query's orientation (row 0 is its 5' end;
 * on `-` that is the highest forward coordinate); `rowPosition` gives each row's label.
 */
export type PredictionEvent =
  | { type: 'begin'; sequence: SequenceInput }
  | {
      type: 'rows';
      sequence: SequenceInput;
      /** Row index (query orientation) of the first row. */
      offset: number;
      length: number;
      /** `(length, tracks)` row-major, in the model's track order; valid until the next event is pulled. */
      probabilities: Float32Array;
    }
  | { type: 'end'; sequence: SequenceInput };

/** A mode: what runs on the base model's events before they reach a writer. */
export type InferenceStage = (base: AsyncIterable<PredictionEvent>, context: { model: LoadedModel }) => AsyncIterable<PredictionEvent>;

const STAGES: Record<InferenceMode, InferenceStage> = {
  base_only: (base) => base,
};

/**
 * Output positions per tile by default. Any tile gives the reference's numbers (to float rounding,
 * an output depends only on inputs within context/2 of it); the larger the tile, the less of the
 * work is context: with the 10000-nt models a 5000-output tile costs 3.2 MFLOP per output, 20000
 * 1.8, 40000 1.6 (layers trimmed to what they feed). Measured through the CLI on 1 Mb with a
 * joint ensemble session (2 threads): 20000 ran 33,400 nt/s, 40000 35,800 and 60000 36,900, with
 * peak memory 383, 398 and 467 MB; 40000 is the knee.
 */
export const DEFAULT_TILE_SIZE = 40_000;
/** The fewest tiles per `predict` call by default (see `defaultBatchSize`). */
export const DEFAULT_BATCH_SIZE = 2;

/** The most tiles per `predict` call by default: 16 tiles of 40000 outputs need ~720 MB of working memory (~45 MB each). */
export const MAX_DEFAULT_BATCH_SIZE = 16;

/**
 * Tiles per `predict` call by default, before the adapter's `maxBatchSize` caps it: one per thread,
 * between `DEFAULT_BATCH_SIZE` and `MAX_DEFAULT_BATCH_SIZE`. onnxruntime splits a convolution over
 * the batch, so fewer tiles than threads leave cores idle: on a 16-core host, 500 kb ran at 19,087
 * nt/s in batches of 2 and at 54,737 in batches of 16, with the same output. Each 40000-output tile
 * adds ~45 MB to the peak memory; `batchSize` sets it.
 */
export function defaultBatchSize(threads: number = os.availableParallelism()): number {
  return Math.min(MAX_DEFAULT_BATCH_SIZE, Math.max(DEFAULT_BATCH_SIZE, threads));
}

export interface SequenceInferenceOptions {
  /** A manager with the adapters registered, or a model already loaded (a member or an ensemble). */
  models?: ModelManager | LoadedModel;
  /** The adapter id, e.g. `spliceai` or `openspliceai`; needed with a manager. */
  baseModelType?: string;
  /** The context window (total flank, nt); default the largest available. */
  contextWindow?: number;
  /** The model set (e.g. `openspliceai-mane`), when several share a context. */
  setName?: string;
  mode?: InferenceMode;
  backend?: string;
  device?: Device;
  threads?: number;
  /** Output positions per tile (default `DEFAULT_TILE_SIZE`). */
  tileSize?: number;
  /** Tiles per `predict` call (default `defaultBatchSize(threads)`). */
  batchSize?: number;
}

/** All rows of one query, as `predictSequence` returns them. */
export interface SequencePrediction {
  name: string;
  strand: QueryStrand;
  length: number;
  /** What each column of a row is (the model's tracks, in order). */
  tracks: readonly OutputTrack[];
  /** `(length, tracks.length)` row-major, in the query's orientation. */
  probabilities: Float32Array;
}

/**
 * Per-position splice-site probabilities for sequences, FASTA records, regions and genes, from any
 * registered base model (the design note's `SequenceInference(models?, baseModelType,
 * contextWindow, mode='base_only')`). It windows inputs the way the reference tools do (N padding,
 * or real flanks where the input has them), batches tiles across queries, reverse-complements `-`
 * queries, and streams rows in query order, so a whole chromosome runs in bounded memory.
 */
export class SequenceInference {
  readonly mode: InferenceMode;
  private readonly options: SequenceInferenceOptions;
  private loading?: Promise<LoadedModel>;
  private ownsModel = false;
  private maxBatch = Number.POSITIVE_INFINITY;
  /** The set loaded through the manager (undefined when a model was passed in). */
  set?: ModelSet;
  /** The licence of the loaded weights, when known: show it to the user. */
  license?: string;

  constructor(options: SequenceInferenceOptions) {
    const mode = options.mode ?? 'base_only';
    if (!INFERENCE_MODES.includes(mode)) {
      throw new InvalidArgumentError(`inference mode "${String(mode)}" is not available; available: ${INFERENCE_MODES.join(', ')}`, {
        hint: 'meta-model modes arrive with the meta-learning layer; use base_only',
      });
    }
    parseOptions(sequenceInferenceOptionsSchema, options, { owner: 'SequenceInference' });
    this.mode = mode;
    this.options = options;
  }

  /** Loads the model once (resolving the set through the manager); later calls share it. */
  load(): Promise<LoadedModel> {
    this.loading ??= this.open();
    return this.loading;
  }

  private async open(): Promise<LoadedModel> {
    const { models } = this.options;
    if (models && 'predict' in models) {
      if (this.options.contextWindow !== undefined && models.context !== this.options.contextWindow) {
        throw new InvalidArgumentError(`the model given has context ${models.context}, not ${this.options.contextWindow}`);
      }
      return models;
    }
    if (!models) throw new InvalidArgumentError('SequenceInference needs a ModelManager with adapters registered, or a loaded model');
    if (!this.options.baseModelType)
      throw new InvalidArgumentError('SequenceInference needs baseModelType (the adapter id, e.g. spliceai) to load through a manager');
    const loaded = await models.load({
      adapter: this.options.baseModelType,
      context: this.options.contextWindow,
      setName: this.options.setName,
      backend: this.options.backend,
      device: this.options.device,
      threads: this.options.threads,
    });
    this.ownsModel = true;
    this.set = loaded.set;
    this.license = loaded.license;
    this.maxBatch = models.adapter(loaded.set.adapter).capabilities.maxBatchSize;
    return loaded.model;
  }

  /**
   * Predicts every query, streaming events in query order. Inputs are pulled lazily, so they may
   * come from a generator over a whole genome; each input's `dispose` runs after its `end`.
   */
  async *predict(inputs: Iterable<SequenceInput> | AsyncIterable<SequenceInput>): AsyncGenerator<PredictionEvent> {
    const model = await this.load();
    const base = predictEvents(model, inputs, {
      tileSize: this.options.tileSize ?? DEFAULT_TILE_SIZE,
      batchSize: Math.max(1, Math.min(this.options.batchSize ?? defaultBatchSize(this.options.threads), this.maxBatch)),
    });
    yield* STAGES[this.mode](base, { model });
  }

  /** Predicts one sequence held in memory and returns all its rows (for short inputs and tests). */
  async predictSequence(sequence: string | Uint8Array, options: { name?: string; strand?: QueryStrand } = {}): Promise<SequencePrediction> {
    const input = sequenceInput(options.name ?? 'sequence', sequence, { strand: options.strand });
    const { tracks } = await this.load();
    const probabilities = new Float32Array(input.length * tracks.length);
    for await (const event of this.predict([input])) {
      if (event.type === 'rows') probabilities.set(event.probabilities, event.offset * tracks.length);
    }
    return { name: input.name, strand: input.strand, length: input.length, tracks, probabilities };
  }

  /** Releases the model when this object loaded it (a model passed in stays the caller's). */
  async dispose(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    if (loading && this.ownsModel) await (await loading).dispose();
  }
}

/**
 * The base model's event stream for queries: builds each query's padded code source in the
 * model's orientation (reverse complement for `-`), packs tiles across queries, and brackets each
 * query's rows with `begin`/`end`.
 */
export async function* predictEvents(
  model: LoadedModel,
  inputs: Iterable<SequenceInput> | AsyncIterable<SequenceInput>,
  options: { tileSize: number; batchSize: number },
): AsyncGenerator<PredictionEvent> {
  const open = new Set<SequenceInput>();
  const half = model.context / 2;
  async function* jobs(): AsyncGenerator<PackJob<SequenceInput>> {
    for await (const input of inputs) {
      if (!Number.isInteger(input.length) || input.length < 0)
        throw new InvalidArgumentError(`${input.name}: length must be a whole number, got ${input.length}`);
      open.add(input);
      yield { tag: input, outputLength: input.length, source: modelSource(input, half), isolated: input.isolated };
    }
  }
  let current: SequenceInput | undefined;
  try {
    for await (const chunk of predictPacked(model, jobs(), options)) {
      const sequence = chunk.tag;
      if (sequence !== current) {
        current = sequence;
        yield { type: 'begin', sequence };
      }
      if (chunk.length > 0) yield { type: 'rows', sequence, offset: chunk.offset, length: chunk.length, probabilities: chunk.probabilities };
      if (chunk.done) {
        current = undefined;
        open.delete(sequence);
        yield { type: 'end', sequence };
        await sequence.dispose?.();
      }
    }
  } finally {
    // Stopped early (an error, or the consumer quit): free what the unfinished inputs hold.
    for (const input of open) await input.dispose?.();
  }
}

/**
 * The padded inputs the model reads for a query. On `+` padded position p is forward base
 * p - half; on `-` it is the complement of forward base length - 1 - (p - half), so a range is
 * one forward read, reverse-complemented.
 */
export function modelSource(input: SequenceInput, half: number): CodeSource {
  if (input.strand === '+') return (start, end) => input.read(start - half, end - half);
  if (input.strand !== '-') throw new InvalidArgumentError(`${input.name}: strand must be + or -, got ${String(input.strand)}`);
  const n = input.length;
  return async (start, end) => reverseComplementCodes(await input.read(n - end + half, n - start + half));
}
