import {
  DEFAULT_VARIANT_ENCODING,
  InvalidArgumentError,
  type LoadedModel,
  parseOptions,
  REFERENCE_TILE,
  runCones,
  type VariantEncoding,
} from '@metaspliceai/core';
import { variantScorerOptionsSchema } from './scorer-options.js';
import { AnnotationIndex, transcriptDistances } from '../annotations/lookup.js';
import type { AnnotationTable } from '../annotations/table.js';
import type { FastaReader } from '../io/fasta.js';
import { SPLICEAI_INFO_HEADER } from '../io/vcf.js';
import { coneWork } from './cone-work.js';
import { computeDeltaScores, type DeltaScores, formatDeltaEntry } from './delta.js';
import { type JobRows, jobsOf, type Plan, planVariant, type ScoringSetup } from './plan.js';
import { wholeWindowWork } from './reference-tiles.js';
import { viewTracks } from './rules/track-view.js';
import { runTiles } from './tiles.js';

/**
 * Cones per stage call unless asked. The stage graphs run an ensemble's trunk as grouped
 * convolutions, so few cones fill the threads, and each more holds memory. 200 SNVs in TUBB8 through
 * the CLI, 2 threads, SpliceAI / OpenSpliceAI 10000: 10.58-10.70 / 10.70 variants/s in ~710 / 726 MB
 * with 2, 10.17-10.29 / 10.60 in ~915 / 913 MB with 4, 8.83 / 8.87 in 653 / 669 MB with 1; at
 * distance 500 (SpliceAI) 9.42 in 752 MB with 2, 9.03 in 953 MB with 4.
 */
const CONE_BATCH = 2;

/** The tracks the `spliceai` rule reads, as rows `[neither, acceptor, donor]` (`neither` may be absent: it is never read). */
export const SPLICEAI_RULE_TRACKS = ['neither', 'acceptor', 'donor'] as const;

/** A variant as VCF gives it: 1-based POS, REF and the ALT alleles. */
export interface VariantInput {
  chrom: string;
  pos: number;
  ref: string;
  alts: readonly string[];
}

/**
 * Why a record got no `SpliceAI` field: SpliceAI's own skips, plus a missing contig and a position
 * that is not on the contig (POS 0, or past its end: the reference and the VCF disagree).
 */
export type SkipReason = 'outside-genes' | 'contig-missing' | 'contig-end' | 'ref-mismatch' | 'ref-too-long' | 'no-scorable-alt' | 'invalid-position';

export const SKIP_REASONS: readonly SkipReason[] = [
  'outside-genes',
  'contig-missing',
  'contig-end',
  'ref-mismatch',
  'ref-too-long',
  'no-scorable-alt',
  'invalid-position',
];

/** One `ALT|GENE|...` entry. */
export interface AlleleScore {
  alt: string;
  gene: string;
  strand: '+' | '-';
  /** Row of the transcript in the annotation table. */
  transcriptIndex: number;
  /** Undefined when REF and ALT are both longer than 1 (SpliceAI prints dots). */
  delta?: DeltaScores;
  /** The entry as SpliceAI writes it. */
  text: string;
  /**
   * With `keepRows`: the REF and ALT rows behind `delta` (`(2*dist+1, 3)`, genome order; ALT as the
   * model returned it, before deletions are padded or insertions folded), for REF/ALT probabilities.
   */
  rows?: { ref: Float32Array; alt: Float32Array };
}

export interface VariantScore {
  variant: VariantInput;
  /** Entries in SpliceAI's order: ALT by ALT, and within an ALT gene by gene in table order. */
  entries: AlleleScore[];
  /** Set when the record gets no score at all. */
  skipped?: { reason: SkipReason; message: string };
  /** ALT alleles left out (`.`, `*`, `-`, symbolic `<...>`, breakends, IUPAC codes). */
  ignoredAlts: string[];
  /**
   * The ALT alleles left out for holding IUPAC ambiguity codes (R, Y, ...) or other letters than
   * A, C, G, T, N: SpliceAI would read `R` as C (its byte value mod 5) and score C>R as C>C, a number
   * that means nothing, so they are not scored and the caller warns.
   */
  ambiguousAlts: string[];
}

export interface VariantScorerOptions {
  /**
   * A loaded model (usually an ensemble from `ModelManager.load`) with tracks named `acceptor` and
   * `donor` (others are ignored): its context sets the window.
   */
  model: LoadedModel;
  fasta: FastaReader;
  annotation: AnnotationIndex | AnnotationTable;
  /** SpliceAI `-D`: the largest distance between the variant and a gained or lost site (default 50). */
  dist?: number;
  /** SpliceAI `-M 1` (default false). */
  mask?: boolean;
  /** Default `spliceai` (upstream's one-hot quirk); `acgt` for OpenSpliceAI and other families. */
  encoding?: VariantEncoding;
  /** Decimals of the scores (default 2, OpenSpliceAI's `--precision`). */
  precision?: number;
  /**
   * Whole windows per `predict` (default 4: each held costs ~60 MB with a 10000-context 5-model
   * ensemble), and cones per stage call (default 2, `coneBatchSize`).
   */
  batchSize?: number;
  /**
   * Predict the reference once per stretch of a transcript instead of once per variant (default
   * true). The reference window of every variant is the transcript-masked genome, so the numbers
   * are those of the per-variant way; only the work differs.
   */
  shareReference?: boolean;
  /** Output positions per shared-reference tile (default 5000). */
  referenceTileSize?: number;
  /**
   * With a shared reference and a staged model (`LoadedModel.stages`), score variants (substitutions,
   * deletions, insertions) by recomputing only the positions they change (default true). The numbers are the same.
   */
  recomputeChangesOnly?: boolean;
  /** Keep each entry's REF and ALT rows on `AlleleScore.rows` (default false: they cost ~24 B per position). */
  keepRows?: boolean;
}

/**
 * SpliceAI-compatible variant scoring with any base model: `get_delta_scores` of SpliceAI (and of
 * OpenSpliceAI's `variant` command), with the window `context + 2*dist + 1` of the model given.
 * `scoreMany` batches the reference and alternate windows of many variants into few model calls.
 */
export class VariantScorer {
  /** The INFO key `annotateVcf` writes, and its header line. */
  readonly infoKey = 'SpliceAI';
  readonly infoHeader = SPLICEAI_INFO_HEADER;
  /** The model seen through its neither/acceptor/donor tracks (other tracks are not read). */
  readonly model: LoadedModel;
  readonly fasta: FastaReader;
  readonly annotation: AnnotationIndex;
  readonly dist: number;
  readonly mask: boolean;
  readonly encoding: VariantEncoding;
  readonly precision: number;
  readonly batchSize: number;
  readonly coneBatchSize: number;
  readonly shareReference: boolean;
  readonly referenceTileSize: number;
  readonly recomputeChangesOnly: boolean;
  readonly keepRows: boolean;

  constructor(options: VariantScorerOptions) {
    parseOptions(variantScorerOptionsSchema, options, { owner: 'VariantScorer' });
    this.model = viewTracks(options.model, SPLICEAI_RULE_TRACKS, ['neither']);
    this.fasta = options.fasta;
    this.annotation = options.annotation instanceof AnnotationIndex ? options.annotation : new AnnotationIndex(options.annotation);
    this.dist = options.dist ?? 50;
    this.mask = options.mask ?? false;
    this.encoding = options.encoding ?? DEFAULT_VARIANT_ENCODING;
    this.precision = options.precision ?? 2;
    this.batchSize = options.batchSize ?? 4;
    this.coneBatchSize = options.batchSize ?? CONE_BATCH;
    this.shareReference = options.shareReference ?? true;
    this.referenceTileSize = options.referenceTileSize ?? REFERENCE_TILE;
    this.recomputeChangesOnly = options.recomputeChangesOnly ?? true;
    this.keepRows = options.keepRows ?? false;
    if (!Number.isInteger(this.model.context) || this.model.context < 0 || this.model.context % 2)
      throw new InvalidArgumentError(`the model's context must be an even number, got ${this.model.context}`);
  }

  /** Bases read on each side of POS: context/2 + dist. */
  get flank(): number {
    return this.model.context / 2 + this.dist;
  }

  /** SpliceAI's `wid`: the reference window around POS, context + 2*dist + 1. */
  get window(): number {
    return 2 * this.flank + 1;
  }

  async score(variant: VariantInput): Promise<VariantScore> {
    return (await this.scoreMany([variant]))[0];
  }

  /**
   * Scores variants together (one result per input, in order), sharing model calls between them.
   * `onBatch` reports model calls done of those needed.
   */
  async scoreMany(variants: readonly VariantInput[], onBatch?: (done: number, total: number) => void): Promise<VariantScore[]> {
    const setup = this.setup;
    const plans: Plan[] = [];
    for (const v of variants) plans.push(await planVariant(setup, v));
    const jobs = jobsOf(plans, this.encoding);
    // On a staged model every job recomputes only what it changes: each is a substitution, deletion
    // or insertion at POS whose REF (at most 2*dist nt) lies inside its outputs' reach, which a cone
    // takes. Whole alternate windows are for models without stages, or when asked for.
    const stages = this.shareReference && this.recomputeChangesOnly ? this.model.stages : undefined;
    const rows: JobRows = new Map();
    const cones = stages ? await coneWork(setup, plans, jobs) : [];
    const whole = await wholeWindowWork(setup, plans, stages ? [] : jobs, { share: this.shareReference, tileSize: this.referenceTileSize });
    const total = cones.reduce((n, w) => n + w.jobs.length + 1, 0) + whole.tiles.length;
    let done = 0;
    for (const work of cones) {
      const before = done;
      const referenceRows = await runCones(
        stages!,
        work.reference,
        work.jobs.map((j) => j.cone),
        this.coneBatchSize,
        (n) => onBatch?.((done = before + n), total),
      );
      onBatch?.((done = before + work.jobs.length + 1), total);
      work.finish(referenceRows, rows);
    }
    const before = done;
    await runTiles(this.model, whole.tiles, this.batchSize, (n) => onBatch?.(before + n, total));
    whole.finish(rows);

    for (const job of jobs) {
      const plan = plans[job.record];
      const variant = plan.result.variant;
      const { ref, alt } = rows.get(job)!;
      const delta = computeDeltaScores({
        ref,
        alt,
        refLength: variant.ref.length,
        altLength: job.alt.length,
        dist: this.dist,
        mask: this.mask,
        exonBoundaryDistance: transcriptDistances(job.hit.row, variant.pos).exonBoundary,
      });
      const entry = plan.result.entries[job.entry];
      entry.delta = delta;
      entry.text = formatDeltaEntry(entry.alt, entry.gene, delta, this.precision);
      if (this.keepRows) entry.rows = { ref, alt };
    }
    return plans.map((p) => p.result);
  }

  /** What planning, references and cones read of this scorer. */
  private get setup(): ScoringSetup {
    return { fasta: this.fasta, annotation: this.annotation, encoding: this.encoding, dist: this.dist, context: this.model.context };
  }
}
