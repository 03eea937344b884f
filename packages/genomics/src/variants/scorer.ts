import { CODE_N, encodeVariantSequence, InvalidArgumentError, type LoadedModel, REFERENCE_TILE, reverseComplementCodes, type VariantEncoding } from '@metaspliceai/core';
import { AnnotationIndex, type TranscriptHit, transcriptDistances } from '../annotations/lookup.js';
import type { AnnotationTable } from '../annotations/table.js';
import type { FastaReader } from '../io/fasta.js';
import { computeDeltaScores, type DeltaScores, formatDeltaEntry } from './delta.js';
import { reverseRows, runTiles, type Tile } from './tiles.js';
import { type ConeJob, runCones } from './cone.js';
import { SPLICEAI_INFO_HEADER } from '../io/vcf.js';
import { viewTracks } from './rules/track-view.js';

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

export const SKIP_REASONS: readonly SkipReason[] = ['outside-genes', 'contig-missing', 'contig-end', 'ref-mismatch', 'ref-too-long', 'no-scorable-alt', 'invalid-position'];

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
   * Windows per model call (default 4): whole windows per `predict`, or cones per stage call. Each
   * window held costs ~60 MB with a 10000-context 5-model ensemble; 4 keeps scoring under 600 MB.
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
   * With a shared reference and a staged model (`LoadedModel.stages`), score substitutions by
   * recomputing only the positions they change (default true). The numbers are the same.
   */
  recomputeChangesOnly?: boolean;
  /** Keep each entry's REF and ALT rows on `AlleleScore.rows` (default false: they cost ~24 B per position). */
  keepRows?: boolean;
}

interface Job {
  record: number;
  hit: TranscriptHit;
  alt: string;
  /** The ALT allele's codes. */
  altCodes: Uint8Array;
  entry: number;
}

interface ConeWork {
  /** The masked genome around a stretch of substitutions, in the frame the model sees. */
  reference: Uint8Array;
  jobs: { job: Job; cone: ConeJob }[];
  finish(referenceRows: Float32Array, rows: Map<Job, { ref: Float32Array; alt: Float32Array }>): void;
}

/**
 * Outputs per cone stretch: bounds the reference states kept (2.5 KB per position for the 5-model
 * 10000 ensembles: 2 boundaries x 5 members x 64 channels) while sharing one reference between the
 * variants of a gene.
 */
const CONE_STRETCH = 20_000;

interface Plan {
  result: VariantScore;
  window?: Uint8Array;
  hits: TranscriptHit[];
  fastaName?: string;
}

const SKIPPED_ALT = /[.\-*<>[\]]/;
/** An allele of plain bases: only these are scored (see `VariantScore.ambiguousAlts`). */
const PLAIN_BASES = /^[ACGTN]+$/i;

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
  readonly shareReference: boolean;
  readonly referenceTileSize: number;
  readonly recomputeChangesOnly: boolean;
  readonly keepRows: boolean;

  constructor(options: VariantScorerOptions) {
    this.model = viewTracks(options.model, SPLICEAI_RULE_TRACKS, ['neither']);
    this.fasta = options.fasta;
    this.annotation = options.annotation instanceof AnnotationIndex ? options.annotation : new AnnotationIndex(options.annotation);
    this.dist = options.dist ?? 50;
    this.mask = options.mask ?? false;
    this.encoding = options.encoding ?? 'spliceai';
    this.precision = options.precision ?? 2;
    this.batchSize = options.batchSize ?? 4;
    this.shareReference = options.shareReference ?? true;
    this.referenceTileSize = options.referenceTileSize ?? REFERENCE_TILE;
    this.recomputeChangesOnly = options.recomputeChangesOnly ?? true;
    this.keepRows = options.keepRows ?? false;
    if (!Number.isInteger(this.dist) || this.dist < 0 || this.dist > 4999) throw new InvalidArgumentError(`dist must be a whole number from 0 to 4999, got ${this.dist}`);
    if (!Number.isInteger(this.precision) || this.precision < 0 || this.precision > 20) throw new InvalidArgumentError(`precision must be a whole number from 0 to 20, got ${this.precision}`);
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new InvalidArgumentError(`batch size must be a positive integer, got ${this.batchSize}`);
    if (!Number.isInteger(this.referenceTileSize) || this.referenceTileSize < 1) throw new InvalidArgumentError(`reference tile size must be a positive integer, got ${this.referenceTileSize}`);
    if (!Number.isInteger(this.model.context) || this.model.context < 0 || this.model.context % 2) throw new InvalidArgumentError(`the model's context must be an even number, got ${this.model.context}`);
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
    const plans: Plan[] = [];
    for (const v of variants) plans.push(await this.plan(v));
    const jobs: Job[] = [];
    plans.forEach((plan, record) => {
      plan.result.entries.forEach((entry, index) => {
        if (entry.text) return; // dots: nothing to run
        const hit = plan.hits.find((h) => h.index === entry.transcriptIndex)!;
        jobs.push({ record, hit, alt: entry.alt, altCodes: encodeVariantSequence(entry.alt, this.encoding), entry: index });
      });
    });
    // Substitutions (REF and ALT of one length) recompute only what they change when the model
    // is staged; the rest run whole alternate windows.
    const stages = this.shareReference && this.recomputeChangesOnly ? this.model.stages : undefined;
    const isCone = (job: Job) => stages !== undefined && job.altCodes.length === plans[job.record].result.variant.ref.length;
    const coneJobs = jobs.filter(isCone);
    const tiledJobs = jobs.filter((job) => !isCone(job));
    const rows = new Map<Job, { ref: Float32Array; alt: Float32Array }>();
    const progress = { done: 0, total: 0 };
    const coneWork = stages ? await this.coneWork(plans, coneJobs) : [];
    const tiled = await this.tiledWork(plans, tiledJobs);
    progress.total = coneWork.reduce((n, w) => n + w.jobs.length + 1, 0) + tiled.tiles.length;
    for (const work of coneWork) {
      const before = progress.done;
      const referenceRows = await runCones(stages!, work.reference, work.jobs.map((j) => j.cone), this.batchSize, (done) => {
        progress.done = before + done;
        onBatch?.(progress.done, progress.total);
      });
      progress.done = before + work.jobs.length + 1;
      onBatch?.(progress.done, progress.total);
      work.finish(referenceRows, rows);
    }
    const before = progress.done;
    await runTiles(this.model, tiled.tiles, this.batchSize, (done) => onBatch?.(before + done, progress.total));
    tiled.finish(rows);

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

  /**
   * Whole windows: each job's alternate window as SpliceAI builds it (the masked window with the
   * ALT in place, reverse-complemented on the minus strand), and the reference rows they need.
   */
  private async tiledWork(plans: Plan[], jobs: Job[]): Promise<{ tiles: Tile[]; finish: (rows: Map<Job, { ref: Float32Array; alt: Float32Array }>) => void }> {
    const half = this.flank;
    const altTiles = jobs.map((job) => {
      const plan = plans[job.record];
      const masked = this.maskWindow(plan.window!, plan.result.variant.pos, job.hit);
      const refLength = plan.result.variant.ref.length;
      const codes = new Uint8Array(masked.length - refLength + job.altCodes.length);
      codes.set(masked.subarray(0, half), 0);
      codes.set(job.altCodes, half);
      codes.set(masked.subarray(half + refLength), half + job.altCodes.length);
      const reverse = job.hit.row.strand === '-';
      const tile: Tile = { codes: reverse ? reverseComplementCodes(codes) : codes, reverse };
      return tile;
    });
    const reference = await this.referenceTiles(plans, jobs);
    const cov = 2 * this.dist + 1;
    return {
      tiles: [...altTiles, ...reference.tiles],
      finish: (rows) => {
        jobs.forEach((job, i) => rows.set(job, { ref: reference.rows(job.hit.index, plans[job.record].result.variant.pos, cov), alt: altTiles[i].output! }));
      },
    };
  }

  /**
   * Cones: the substitutions of each transcript, grouped into stretches of at most
   * `CONE_STRETCH` outputs, each with one reference (the masked genome, as for shared references).
   */
  private async coneWork(plans: Plan[], jobs: Job[]): Promise<ConeWork[]> {
    const half = this.model.context / 2;
    const dist = this.dist;
    const byTranscript = new Map<number, Job[]>();
    for (const job of jobs) {
      let list = byTranscript.get(job.hit.index);
      if (!list) byTranscript.set(job.hit.index, (list = []));
      list.push(job);
    }
    const work: ConeWork[] = [];
    for (const list of byTranscript.values()) {
      list.sort((a, b) => plans[a.record].result.variant.pos - plans[b.record].result.variant.pos);
      const stretches: Job[][] = [];
      for (const job of list) {
        const pos = plans[job.record].result.variant.pos;
        const current = stretches[stretches.length - 1];
        const start = current ? plans[current[0].record].result.variant.pos - dist : 0;
        const end = current ? plans[current[current.length - 1].record].result.variant.pos + dist : 0;
        if (current && pos - dist - end - 1 < 2 * half && pos + dist - start < CONE_STRETCH) current.push(job);
        else stretches.push([job]);
      }
      for (const stretch of stretches) {
        const hit = stretch[0].hit;
        const reverse = hit.row.strand === '-';
        const from = plans[stretch[0].record].result.variant.pos - dist;
        const to = plans[stretch[stretch.length - 1].record].result.variant.pos + dist;
        const first = from - half; // genome position of reference index 0
        const genome = await this.maskedGenome(plans[stretch[0].record].fastaName!, hit, first, to + half);
        const length = genome.length;
        // Reference index of a genome position, in the frame the model sees.
        const index = (g: number) => (reverse ? length - 1 - (g - first) : g - first);
        const entries = stretch.map((job) => {
          const pos = plans[job.record].result.variant.pos;
          const m = job.altCodes.length;
          const cone: ConeJob = {
            changeStart: reverse ? index(pos + m - 1) : index(pos),
            alt: reverse ? reverseComplementCodes(job.altCodes) : job.altCodes,
            outputStart: reverse ? index(pos + dist) : index(pos - dist),
            outputCount: 2 * dist + 1,
          };
          return { job, cone };
        });
        work.push({
          reference: reverse ? reverseComplementCodes(genome) : genome,
          jobs: entries,
          finish: (referenceRows, rows) => {
            const genomeRows = reverse ? reverseRows(referenceRows) : referenceRows;
            for (const { job, cone } of entries) {
              const pos = plans[job.record].result.variant.pos;
              const at = (pos - dist - from) * 3;
              rows.set(job, { ref: genomeRows.slice(at, at + cone.outputCount * 3), alt: reverse ? reverseRows(cone.output!) : cone.output! });
            }
          },
        });
      }
    }
    return work;
  }

  /** The checks SpliceAI makes before running a model, and the (ALT, gene) entries to fill. */
  private async plan(variant: VariantInput): Promise<Plan> {
    const result: VariantScore = { variant, entries: [], ignoredAlts: [], ambiguousAlts: [] };
    const skip = (reason: SkipReason, message: string): Plan => ({ result: { ...result, skipped: { reason, message } }, hits: [] });
    if (!Number.isInteger(variant.pos) || variant.pos < 1) return skip('invalid-position', `POS ${variant.pos} is not a position (VCF positions start at 1)`);
    const hits = this.annotation.overlapping(variant.chrom, variant.pos);
    const fastaName = await this.fasta.resolveName(variant.chrom);
    // Past the contig's end is checked before genes, so a VCF for another assembly is not "outside genes".
    const length = fastaName === undefined ? undefined : await this.fasta.length(fastaName);
    const last = variant.pos + Math.max(variant.ref.length, 1) - 1;
    if (length !== undefined && last > length) {
      return skip('invalid-position', `${variant.pos > length ? `POS ${variant.pos}` : `REF ends at ${last}, which`} is past the end of ${fastaName} (${length} nt) in ${this.fasta.path}`);
    }
    if (hits.length === 0) return skip('outside-genes', 'not inside any transcript of the annotation');
    if (fastaName === undefined || length === undefined) return skip('contig-missing', `contig ${variant.chrom} is not in the reference ${this.fasta.path}`);
    const half = this.flank;
    const start = variant.pos - half - 1;
    const end = variant.pos + half;
    if (start < 0 || end > length) return skip('contig-end', `within ${half} nt of the end of ${fastaName} (the window is ${this.window} nt)`);
    const sequence = await this.fasta.fetch(fastaName, start, end);
    const ref = variant.ref.length <= half + 1 ? sequence.slice(half, half + variant.ref.length) : await this.fasta.fetch(fastaName, variant.pos - 1, variant.pos - 1 + variant.ref.length);
    if (ref.toUpperCase() !== variant.ref.toUpperCase()) {
      const shown = ref.length > 20 ? `${ref.slice(0, 20)}...` : ref;
      return skip('ref-mismatch', `REF ${variant.ref.length > 20 ? `${variant.ref.slice(0, 20)}...` : variant.ref} does not match the reference (${shown})`);
    }
    if (variant.ref.length > 2 * this.dist) return skip('ref-too-long', `REF is ${variant.ref.length} nt, longer than 2*dist = ${2 * this.dist}`);
    const ambiguousRef = !PLAIN_BASES.test(variant.ref);
    for (const alt of variant.alts) {
      if (alt === '' || SKIPPED_ALT.test(alt)) {
        result.ignoredAlts.push(alt);
        continue;
      }
      const dots = variant.ref.length > 1 && alt.length > 1; // SpliceAI prints dots: nothing is computed
      if (!dots && (ambiguousRef || !PLAIN_BASES.test(alt))) {
        result.ignoredAlts.push(alt);
        result.ambiguousAlts.push(alt);
        continue;
      }
      for (const hit of hits) {
        result.entries.push({
          alt,
          gene: hit.row.name,
          strand: hit.row.strand,
          transcriptIndex: hit.index,
          // Empty until scoreMany fills it in after the model runs.
          text: dots ? formatDeltaEntry(alt, hit.row.name, undefined) : '',
        });
      }
    }
    if (result.entries.length === 0) {
      const why = ambiguousRef ? `; REF ${variant.ref} holds a letter other than A, C, G, T, N` : result.ambiguousAlts.length ? `; IUPAC codes or other letters than A, C, G, T, N are not scored` : '';
      return skip('no-scorable-alt', variant.alts.length ? `no ALT can be scored (${variant.alts.join(',')})${why}` : 'no ALT allele');
    }
    return { result, window: encodeVariantSequence(sequence, this.encoding), hits, fastaName };
  }

  /** The window with N outside the transcript, as SpliceAI pads it. */
  private maskWindow(window: Uint8Array, pos: number, hit: TranscriptHit): Uint8Array {
    const half = this.flank;
    const lead = Math.max(half + (hit.row.txStart + 1 - pos), 0);
    const trail = Math.max(half - (hit.row.txEnd - pos), 0);
    if (lead === 0 && trail === 0) return window;
    const out = window.slice();
    out.fill(CODE_N, 0, Math.min(lead, out.length));
    out.fill(CODE_N, Math.max(out.length - trail, 0));
    return out;
  }

  /**
   * Reference predictions for every (record, transcript) the jobs need. Shared: the positions
   * POS-dist..POS+dist of all variants of a transcript, merged where the gap is under one context,
   * are predicted as stretches of the masked genome. Not shared: each record's own window, exactly
   * as SpliceAI runs it.
   */
  private async referenceTiles(plans: Plan[], jobs: Job[]): Promise<{ tiles: Tile[]; rows: (transcript: number, pos: number, cov: number) => Float32Array }> {
    const dist = this.dist;
    const context = this.model.context;
    const wanted = new Map<number, { hit: TranscriptHit; fastaName: string; positions: Set<number> }>();
    for (const job of jobs) {
      const plan = plans[job.record];
      let w = wanted.get(job.hit.index);
      if (!w) wanted.set(job.hit.index, (w = { hit: job.hit, fastaName: plan.fastaName!, positions: new Set() }));
      w.positions.add(plan.result.variant.pos);
    }
    const segments = new Map<number, { start: number; end: number; tiles: { from: number; tile: Tile }[] }[]>();
    const tiles: Tile[] = [];
    for (const [index, w] of wanted) {
      const positions = [...w.positions].sort((a, b) => a - b);
      const list: { start: number; end: number; tiles: { from: number; tile: Tile }[] }[] = [];
      for (const pos of positions) {
        const last = list[list.length - 1];
        if (last && this.shareReference && pos - dist - last.end - 1 < context) last.end = pos + dist;
        else list.push({ start: pos - dist, end: pos + dist, tiles: [] });
      }
      const size = this.shareReference ? this.referenceTileSize : 2 * dist + 1;
      for (const segment of list) {
        for (let from = segment.start; from <= segment.end; from += size) {
          const to = Math.min(from + size - 1, segment.end);
          const codes = await this.maskedGenome(w.fastaName, w.hit, from - context / 2, to + context / 2);
          const tile: Tile = { codes: w.hit.row.strand === '-' ? reverseComplementCodes(codes) : codes, reverse: w.hit.row.strand === '-' };
          segment.tiles.push({ from, tile });
          tiles.push(tile);
        }
      }
      segments.set(index, list);
    }
    const rows = (transcript: number, pos: number, cov: number): Float32Array => {
      const first = pos - dist;
      const segment = segments.get(transcript)!.find((s) => s.start <= first && first + cov - 1 <= s.end)!;
      const out = new Float32Array(cov * 3);
      for (const { from, tile } of segment.tiles) {
        const rowsInTile = tile.output!.length / 3;
        const lo = Math.max(first, from);
        const hi = Math.min(first + cov - 1, from + rowsInTile - 1);
        if (lo > hi) continue;
        out.set(tile.output!.subarray((lo - from) * 3, (hi - from + 1) * 3), (lo - first) * 3);
      }
      return out;
    };
    return { tiles, rows };
  }

  /** Codes of 1-based positions `from..to` with N outside the contig and outside the transcript. */
  private async maskedGenome(fastaName: string, hit: TranscriptHit, from: number, to: number): Promise<Uint8Array> {
    const out = new Uint8Array(to - from + 1);
    const lo = Math.max(from, hit.row.txStart + 1);
    const hi = Math.min(to, hit.row.txEnd);
    if (lo <= hi) {
      const bases = await this.fasta.fetch(fastaName, lo - 1, hi);
      out.set(encodeVariantSequence(bases, this.encoding), lo - from);
    }
    return out;
  }
}
