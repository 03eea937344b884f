import { encodeVariantSequence, type LoadedModel, parseOptions, reverseComplementCodes, runCones, type VariantEncoding } from '@metaspliceai/core';
import { pangolinScorerOptionsSchema } from './pangolin-options.js';
import type { GeneModel } from '../../annotations/gene-model.js';
import type { FastaReader } from '../../io/fasta.js';
import type { AlleleScore, SkipReason, VariantInput, VariantScore } from '../scorer.js';
import { reverseRows, runTiles, type Tile } from '../tiles.js';
import { groupStretches } from '../stretches.js';
import { formatPangolinScore } from './pangolin-format.js';
import { type PangolinGene, PangolinGenes } from './pangolin-genes.js';
import { viewTracks } from './track-view.js';

/** The tracks Pangolin's rule reads: P(splice site) per tissue (their order does not matter: min and max over them). */
export const PANGOLIN_SITE_TRACKS = ['p_splice_heart', 'p_splice_liver', 'p_splice_brain', 'p_splice_testis'] as const;

/** The INFO header line upstream `pangolin.py` declares. */
export const PANGOLIN_INFO_HEADER =
  '##INFO=<ID=Pangolin,Number=.,Type=String,Description="Pangolin splice scores. Format: gene|pos:score_change|pos:score_change|warnings,...">';

export interface PangolinScorerOptions {
  /** A model with the four `p_splice_<tissue>` tracks (replicate means), e.g. the Pangolin set. */
  model: LoadedModel;
  fasta: FastaReader;
  /** Genes with their `Ensembl_canonical` exons, from a GTF/GFF3 file. */
  genes: PangolinGenes | GeneModel;
  /** Upstream `-d`: bases on each side of the variant scored (default 50). */
  dist?: number;
  /** Upstream `-m` (default true): gains at annotated sites and losses elsewhere clamp to 0. */
  mask?: boolean;
  /** Upstream `-s`: every position with a gain >= cutoff or a loss <= -cutoff instead of the largest. */
  cutoff?: number;
  /** How windows become codes (the adapter's `scoring.variantEncoding`; default `acgt`). */
  encoding?: VariantEncoding;
  /** Whole windows per model call (default 4), and cones per stage call (default 1: one already spreads over the threads). */
  batchSize?: number;
  /** Substitutions on a staged model recompute only the positions they change (default true; same numbers). */
  recomputeChangesOnly?: boolean;
}

/** One variant's plan after upstream's checks: its window and its genes per strand. */
interface Planned {
  result: VariantScore;
  /** The FASTA's name of the contig. */
  chrom?: string;
  ref?: string;
  alt?: string;
  window?: Uint8Array;
  altWindow?: Uint8Array;
  genes?: { plus: PangolinGene[]; minus: PangolinGene[] };
}

/** The model's rows for one variant on one strand, genome order, 4 tissues each. */
interface StrandRows {
  ref: Float32Array;
  alt: Float32Array;
}

const TISSUES = PANGOLIN_SITE_TRACKS.length;

/**
 * Outputs per shared-reference stretch of variants: bounds the reference states kept (~12 KB
 * per position for the joint Pangolin session: 24 networks x 64 channels x 2 boundaries, so ~180 MB
 * for a 15000-input reference) while sharing one reference between the variants of a region.
 */
const CONE_STRETCH = 5_000;

/**
 * Cones per stage call unless asked: the stage graphs run the 12 networks' trunk as one grouped
 * convolution, so a single cone already spreads over the threads, and larger batches only hold more
 * memory. 100 SNVs in TUBB8, 2 threads: 3.95 variants/s in 941 MB with 1, 3.85 in 1,046 MB with 2,
 * 3.69 in 1,291 MB with 4.
 */
const CONE_BATCH = 1;

/**
 * Pangolin's own variant scores, as upstream `pangolin.py` (HEAD 5cf94b8) writes them: the first
 * ALT only; the window is the genome itself around the variant (no N padding at transcript ends);
 * genes whose body holds the variant, run once per strand that has one; per tissue the change of
 * P(site), per position the largest loss and gain over tissues; masking with the exons of the
 * gene's `Ensembl_canonical` transcripts, in place (a later gene on the same strand sees an earlier
 * gene's masks, upstream issue 29); `gene|pos:gain|pos:loss|Warnings:` per gene, joined by `,`.
 */
export class PangolinScorer {
  readonly infoKey = 'Pangolin';
  readonly infoHeader = PANGOLIN_INFO_HEADER;
  readonly model: LoadedModel;
  readonly fasta: FastaReader;
  readonly genes: PangolinGenes;
  readonly dist: number;
  readonly mask: boolean;
  readonly cutoff?: number;
  readonly encoding: VariantEncoding;
  readonly batchSize: number;
  readonly coneBatchSize: number;
  readonly recomputeChangesOnly: boolean;
  private names?: Promise<Set<string>>;

  constructor(options: PangolinScorerOptions) {
    parseOptions(pangolinScorerOptionsSchema, options, { owner: 'PangolinScorer' });
    this.model = viewTracks(options.model, PANGOLIN_SITE_TRACKS);
    this.fasta = options.fasta;
    this.genes = options.genes instanceof PangolinGenes ? options.genes : new PangolinGenes(options.genes);
    this.dist = options.dist ?? 50;
    this.mask = options.mask ?? true;
    this.cutoff = options.cutoff;
    this.encoding = options.encoding ?? 'acgt';
    this.batchSize = options.batchSize ?? 4;
    this.coneBatchSize = options.batchSize ?? CONE_BATCH;
    this.recomputeChangesOnly = options.recomputeChangesOnly ?? true;
  }

  /** Bases read on each side of the variant beyond the scored positions: context/2. */
  get half(): number {
    return this.model.context / 2;
  }

  async score(variant: VariantInput): Promise<VariantScore> {
    return (await this.scoreMany([variant]))[0];
  }

  /** Scores variants (one result per input, in order); `onBatch` reports model calls done of those needed. */
  async scoreMany(variants: readonly VariantInput[], onBatch?: (done: number, total: number) => void): Promise<VariantScore[]> {
    const plans: Planned[] = [];
    for (const v of variants) plans.push(await this.plan(v));
    // Every (variant, strand) with genes: a cone on a staged model (substitutions, deletions and
    // insertions alike), whole windows otherwise.
    const stages = this.recomputeChangesOnly ? this.model.stages : undefined;
    const work: { plan: Planned; strand: '+' | '-'; ref?: Tile; alt?: Tile }[] = [];
    for (const plan of plans) {
      if (!plan.genes) continue;
      for (const strand of ['+', '-'] as const) {
        if ((strand === '+' ? plan.genes.plus : plan.genes.minus).length === 0) continue;
        work.push({ plan, strand });
      }
    }
    const tiles: Tile[] = [];
    for (const w of stages ? [] : work) {
      const reverse = w.strand === '-';
      w.ref = { codes: reverse ? reverseComplementCodes(w.plan.window!) : w.plan.window!, reverse };
      w.alt = { codes: reverse ? reverseComplementCodes(w.plan.altWindow!) : w.plan.altWindow!, reverse };
      tiles.push(w.ref, w.alt);
    }
    const stretches = stages ? this.stretches(work) : [];
    const total = tiles.length + stretches.reduce((n, st) => n + st.length + 1, 0);
    await runTiles(this.model, tiles, this.batchSize, (done) => onBatch?.(done, total));
    const rows = new Map<(typeof work)[number], StrandRows>();
    for (const w of work) if (w.ref) rows.set(w, { ref: w.ref.output!, alt: w.alt!.output! });
    let done = tiles.length;
    for (const stretch of stretches) {
      const before = done;
      const result = await this.cones(stretch, (n) => onBatch?.(before + n, total));
      stretch.forEach((w, i) => rows.set(w, result[i]));
      done = before + stretch.length + 1;
      onBatch?.(done, total);
    }
    for (const plan of plans) {
      if (!plan.genes) continue;
      const texts: AlleleScore[] = [];
      for (const strand of ['+', '-'] as const) {
        const genes = strand === '+' ? plan.genes.plus : plan.genes.minus;
        if (genes.length === 0) continue;
        const w = work.find((x) => x.plan === plan && x.strand === strand)!;
        const scores = this.strandScores(plan, rows.get(w)!);
        for (const gene of genes) {
          texts.push({ alt: plan.alt!, gene: gene.id, strand, transcriptIndex: -1, text: this.geneEntry(plan, gene, scores) });
        }
      }
      plan.result.entries = texts;
    }
    return plans.map((p) => p.result);
  }

  /**
   * Variants on one contig and strand grouped into stretches of at most `CONE_STRETCH`
   * outputs whose windows overlap or nearly touch, so each stretch shares one reference.
   */
  private stretches<W extends { plan: Planned; strand: '+' | '-' }>(jobs: W[]): W[][] {
    const d = this.dist;
    const bySequence = new Map<string, { chrom: string; strand: '+' | '-'; jobs: W[] }>();
    for (const job of jobs) {
      const key = `${job.plan.chrom}\u0000${job.strand}`;
      let entry = bySequence.get(key);
      if (!entry) bySequence.set(key, (entry = { chrom: job.plan.chrom!, strand: job.strand, jobs: [] }));
      entry.jobs.push(job);
    }
    const sequences = [...bySequence.values()].sort((a, b) => (a.chrom < b.chrom ? -1 : a.chrom > b.chrom ? 1 : 0) || a.strand.localeCompare(b.strand));
    const span = (w: W) => [w.plan.result.variant.pos - d, w.plan.result.variant.pos + w.plan.ref!.length - 1 + d] as const;
    return sequences.flatMap((sq) => groupStretches(sq.jobs, span, this.model.context, CONE_STRETCH).map((st) => st.items));
  }

  /**
   * A stretch's rows by recomputing only what each variant changes, against one reference:
   * the genome from the first scored position - context/2 to the last + context/2. An output sees
   * only inputs within context/2 of it, so the numbers are those of each variant's own window.
   */
  private async cones(stretch: { plan: Planned; strand: '+' | '-' }[], onJobs: (done: number) => void): Promise<StrandRows[]> {
    const d = this.dist;
    const half = this.half;
    const reverse = stretch[0].strand === '-';
    const from = Math.min(...stretch.map((w) => w.plan.result.variant.pos - d));
    const to = Math.max(...stretch.map((w) => w.plan.result.variant.pos + w.plan.ref!.length - 1 + d));
    const first = from - half; // genome position (1-based) of reference index 0
    const genome = encodeVariantSequence((await this.fasta.fetch(stretch[0].plan.chrom!, first - 1, to + half)).toUpperCase(), this.encoding);
    const length = genome.length;
    const index = (g: number) => (reverse ? length - 1 - (g - first) : g - first);
    const jobs = stretch.map((w) => {
      const pos = w.plan.result.variant.pos;
      const replaced = w.plan.ref!.length;
      const alt = encodeVariantSequence(w.plan.alt!, this.encoding);
      // REF's outputs are pos-d..pos+replaced-1+d; the ALT window's number 2*d plus its length.
      return {
        changeStart: reverse ? index(pos + replaced - 1) : index(pos),
        alt: reverse ? reverseComplementCodes(alt) : alt,
        replaced,
        outputStart: reverse ? index(pos + replaced - 1 + d) : index(pos - d),
        outputCount: 2 * d + alt.length,
        output: undefined as Float32Array | undefined,
      };
    });
    const referenceRows = await runCones(this.model.stages!, reverse ? reverseComplementCodes(genome) : genome, jobs, this.coneBatchSize, onJobs);
    // Rows in genome order: row j is the output at genome position first + half + j.
    const genomeRows = reverse ? reverseRows(referenceRows, TISSUES) : referenceRows;
    return stretch.map((w, i) => {
      const at = (w.plan.result.variant.pos - d - (first + half)) * TISSUES;
      const out = jobs[i].output!;
      return { ref: genomeRows.slice(at, at + (2 * d + jobs[i].replaced) * TISSUES), alt: reverse ? reverseRows(out, TISSUES) : out };
    });
  }

  /**
   * Upstream's `compute_score` after the model: the ALT rows aligned to the REF rows (a deletion
   * gets zero rows after row d, in float64 as numpy's zeros promote; an insertion keeps the largest
   * of its rows), then per position the smallest and largest change over the tissues.
   */
  private strandScores(plan: Planned, rows: StrandRows): { gain: Float64Array; loss: Float64Array; float64: boolean } {
    const d = this.dist;
    const refLength = plan.ref!.length;
    const altLength = plan.alt!.length;
    const n = rows.ref.length / TISSUES;
    const nAlt = rows.alt.length / TISSUES;
    const deletion = refLength > altLength;
    const insertion = refLength < altLength;
    const ndiff = Math.abs(refLength - altLength);
    const gain = new Float64Array(n);
    const loss = new Float64Array(n);
    for (let p = 0; p < n; p++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let t = 0; t < TISSUES; t++) {
        let a: number;
        if (deletion) a = p <= d ? rows.alt[p * TISSUES + t] : p <= d + ndiff ? 0 : rows.alt[(p - ndiff) * TISSUES + t];
        else if (insertion) {
          if (p < d) a = rows.alt[p * TISSUES + t];
          else if (p === d) {
            a = rows.alt[d * TISSUES + t];
            for (let k = 1; k <= ndiff && d + k < nAlt; k++) a = Math.max(a, rows.alt[(d + k) * TISSUES + t]);
          } else a = rows.alt[(p + ndiff) * TISSUES + t];
        } else a = rows.alt[p * TISSUES + t];
        const r = rows.ref[p * TISSUES + t];
        const delta = deletion ? a - r : Math.fround(a - r);
        if (delta < lo) lo = delta;
        if (delta > hi) hi = delta;
      }
      gain[p] = hi;
      loss[p] = lo;
    }
    return { gain, loss, float64: deletion };
  }

  /** One gene's entry, masking the strand's shared arrays in place as upstream does. */
  private geneEntry(plan: Planned, gene: PangolinGene, scores: { gain: Float64Array; loss: Float64Array; float64: boolean }): string {
    const d = this.dist;
    const pos = plan.result.variant.pos;
    const { gain, loss } = scores;
    const n = loss.length;
    let warnings = 'Warnings:';
    if (this.mask && gene.sites.length > 0) {
      const annotated = new Set<number>();
      for (const site of gene.sites) {
        const p = site - (pos - d);
        if (p >= 0 && p < n) annotated.add(p);
      }
      for (const p of annotated) gain[p] = clampDown(gain[p]);
      for (let p = 0; p < n; p++) if (!annotated.has(p)) loss[p] = clampUp(loss[p]);
    } else if (this.mask) {
      warnings += 'NoAnnotatedSitesToMaskForThisGene';
      for (let p = 0; p < n; p++) loss[p] = clampUp(loss[p]);
    }
    const dtype = scores.float64 ? 'float64' : 'float32';
    const fmt = (x: number) => formatPangolinScore(x, dtype);
    const parts = [gene.id];
    if (this.cutoff !== undefined) {
      // numpy compares a float32 array with a Python float in float32.
      const cut = scores.float64 ? this.cutoff : Math.fround(this.cutoff);
      const minus = scores.float64 ? -this.cutoff : Math.fround(-this.cutoff);
      for (let p = 0; p < n; p++) if (gain[p] >= cut) parts.push(`${p - d}:${fmt(gain[p])}`);
      for (let p = 0; p < n; p++) if (loss[p] <= minus) parts.push(`${p - d}:${fmt(loss[p])}`);
    } else {
      const g = argFirst(gain, (a, b) => a > b);
      const l = argFirst(loss, (a, b) => a < b);
      parts.push(`${g - d}:${fmt(gain[g])}`, `${l - d}:${fmt(loss[l])}`);
    }
    parts.push(warnings);
    return parts.join('|');
  }

  /** Upstream's checks, in its order; a skipped record gets upstream's message. */
  private async plan(variant: VariantInput): Promise<Planned> {
    const result: VariantScore = { variant, entries: [], ignoredAlts: variant.alts.slice(1), ambiguousAlts: [] };
    const skip = (reason: SkipReason, message: string): Planned => ({
      result: { ...result, skipped: { reason, message: `WARNING, skipping variant: ${message}` } },
    });
    const ref = variant.ref;
    const alt = variant.alts[0] ?? '';
    // Case-sensitive, as upstream; a symbol outside ACGTN would crash upstream's encoder: skipped here.
    const hasBase = (s: string) => /[ACGT]/.test(s);
    if (!hasBase(ref) || !hasBase(alt) || /[^ACGTNacgtn]/.test(alt) || (ref.length !== 1 && alt.length !== 1 && ref.length !== alt.length)) {
      return skip('no-scorable-alt', 'Variant format not supported.');
    }
    if (ref.length > 2 * this.dist) return skip('ref-too-long', 'Deletion too large');
    const chrom = await this.fastaName(variant.chrom);
    const half = this.half;
    const d = this.dist;
    const from = variant.pos - half - 1 - d;
    const to = variant.pos + ref.length + half - 1 + d;
    const length = chrom === undefined ? undefined : await this.fasta.length(chrom);
    if (chrom === undefined || length === undefined) {
      return skip(
        'contig-missing',
        `Could not get sequence, possibly because the variant is too close to chromosome ends. (contig ${variant.chrom} is not in ${this.fasta.path})`,
      );
    }
    if (!Number.isInteger(variant.pos) || from < 0 || to > length) {
      return skip(
        'contig-end',
        `Could not get sequence, possibly because the variant is too close to chromosome ends. (the window ${from + 1}-${to} leaves ${chrom}, ${length} nt)`,
      );
    }
    const seq = (await this.fasta.fetch(chrom, from, to)).toUpperCase();
    const found = seq.slice(half + d, half + d + ref.length);
    if (found !== ref) return skip('ref-mismatch', `Mismatch between FASTA (ref base: ${found}) and variant file (ref base: ${ref}).`);
    const genes = this.genes.at(chrom, variant.pos);
    if (genes.plus.length + genes.minus.length === 0) {
      return skip('outside-genes', 'Variant not contained in a gene body. Do GTF/FASTA chromosome names match?');
    }
    const altSeq = seq.slice(0, half + d) + alt + seq.slice(half + d + ref.length);
    return {
      result,
      chrom,
      ref,
      alt,
      window: encodeVariantSequence(seq, this.encoding),
      altWindow: encodeVariantSequence(altSeq, this.encoding),
      genes,
    };
  }

  /** Upstream's renaming: CHROM, else `chr`+CHROM, else CHROM without its first 3 letters. */
  private async fastaName(chrom: string): Promise<string | undefined> {
    this.names ??= this.fasta.names().then((n) => new Set(n));
    const names = await this.names;
    if (names.has(chrom)) return chrom;
    if (names.has(`chr${chrom}`)) return `chr${chrom}`;
    if (names.has(chrom.slice(3))) return chrom.slice(3);
    return undefined;
  }
}

/** numpy's `np.maximum(x, 0)` for a value that is not NaN (`x >= 0 ? x : 0`, so -0.0 stays). */
function clampUp(x: number): number {
  return x >= 0 ? x : 0;
}

/** numpy's `np.minimum(x, 0)` likewise. */
function clampDown(x: number): number {
  return x <= 0 ? x : 0;
}

/** The first index whose value beats every earlier one (numpy's argmax/argmin on ties). */
function argFirst(values: Float64Array, better: (a: number, b: number) => boolean): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (better(values[i], values[best])) best = i;
  return best;
}
