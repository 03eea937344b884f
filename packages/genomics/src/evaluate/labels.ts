import { InvalidArgumentError } from '@metaspliceai/core';
import { geneSeed, sampleIndices, seededRandom } from './sampling.js';
import { type AnnotatedSites, SITE_TYPES, type SiteType } from './sites.js';

/** How many TN rows to keep per gene: a multiple of TP+FP+FN, all of them, or none. */
export type TnSample = number | 'all' | 'none';

export interface LabelOptions {
  /** A call is a position whose score of a type is >= this (default 0.5). */
  threshold: number;
  /** An annotated site matches a call within +-window bases (default 2). */
  window: number;
  /** Half-width of the window written with each error (default 500). */
  errorWindow: number;
  tnSample: TnSample;
  seed: number;
}

/** The fields of a gene labelling needs (1-based inclusive coordinates). */
export interface LabelledGene {
  id: string;
  chrom: string;
  strand: '+' | '-';
  start: number;
  end: number;
}

/**
 * A gene's scores in its own orientation: index k is the k-th base 5'->3' on the gene's strand
 * (genome `start + k` on `+`, `end - k` on `-`), as the gene-relative `position` counts.
 */
export interface GeneScores {
  acceptor: Float32Array;
  donor: Float32Array;
  neither: Float32Array;
}

export type PredType = 'TP' | 'FP' | 'FN' | 'TN';

/** One row of `splice_positions_enhanced` (positions gene-relative, 0-based, 5'->3'). */
export interface PositionRow {
  gene_id: string;
  transcript_id: string;
  position: number;
  predicted_position: number | null;
  true_position: number | null;
  pred_type: PredType;
  score: number;
  strand: '+' | '-';
  donor_score: number;
  acceptor_score: number;
  neither_score: number;
  splice_type: SiteType | '';
  chrom: string;
  context_score_m2: number;
  context_score_m1: number;
  context_score_p1: number;
  context_score_p2: number;
}

/** One row of `splice_errors`: an FP or FN and the window around it (gene-relative, clamped). */
export interface ErrorRow {
  gene_id: string;
  transcript_id: string;
  error_type: 'FP' | 'FN';
  position: number;
  window_start: number;
  window_end: number;
  strand: '+' | '-';
  splice_type: SiteType;
}

export interface SiteCounts {
  sites: number;
  tp: number;
  fp: number;
  fn: number;
}

export interface GeneLabels {
  positions: PositionRow[];
  errors: ErrorRow[];
  counts: Record<SiteType, SiteCounts>;
}

/** The gene-relative index (0-based, 5'->3' on the gene's strand) of a genome coordinate. */
export function relativePosition(gene: Pick<LabelledGene, 'strand' | 'start' | 'end'>, genomic: number): number {
  return gene.strand === '+' ? genomic - gene.start : gene.end - genomic;
}

/** The genome coordinate of a gene-relative index (inverse of `relativePosition`). */
export function genomicPosition(gene: Pick<LabelledGene, 'strand' | 'start' | 'end'>, relative: number): number {
  return gene.strand === '+' ? gene.start + relative : gene.end - relative;
}

/** Checks label options once, at the edge (the loop trusts them). */
export function checkLabelOptions(options: LabelOptions): void {
  const { threshold, window, errorWindow, tnSample, seed } = options;
  if (!(threshold >= 0 && threshold <= 1)) throw new InvalidArgumentError(`threshold must be a probability from 0 to 1, got ${threshold}`);
  if (!Number.isInteger(window) || window < 0) throw new InvalidArgumentError(`window must be a whole number >= 0, got ${window}`);
  if (!Number.isInteger(errorWindow) || errorWindow < 0) throw new InvalidArgumentError(`error window must be a whole number >= 0, got ${errorWindow}`);
  if (typeof tnSample === 'number' && !(tnSample >= 0 && Number.isFinite(tnSample)))
    throw new InvalidArgumentError(`TN sample must be a factor >= 0, all or none, got ${tnSample}`);
  if (!Number.isInteger(seed)) throw new InvalidArgumentError(`seed must be a whole number, got ${seed}`);
}

/**
 * Labels one gene's positions against its annotated sites, per site type: TP = an annotated site
 * with a call (score >= threshold) within +-window (the row carries the best call: highest score,
 * then nearest, then 5'-most); FN = a site without; FP = a call with no site of its type within
 * +-window; TN = every other position (neither a site nor a call of either type), sampled as
 * `tnSample` says with a generator seeded by the run's seed and the gene id.
 */
export function labelGene(gene: LabelledGene, sites: AnnotatedSites, scores: GeneScores, options: LabelOptions): GeneLabels {
  const length = gene.end - gene.start + 1;
  if (scores.acceptor.length !== length || scores.donor.length !== length || scores.neither.length !== length) {
    throw new InvalidArgumentError(`${gene.id}: ${scores.acceptor.length} scores for a gene of ${length} bases`);
  }
  const { threshold, window } = options;
  const taken = new Uint8Array(length); // sites and calls of either type: never TN
  const positions: PositionRow[] = [];
  const errors: ErrorRow[] = [];
  const counts = {} as Record<SiteType, SiteCounts>;

  const row = (k: number, type: SiteType | '', pred: PredType, fields: Partial<PositionRow>): PositionRow => {
    const track = type === '' ? (scores.acceptor[k] >= scores.donor[k] ? scores.acceptor : scores.donor) : scores[type];
    const at = (i: number) => (i >= 0 && i < length ? track[i] : 0);
    return {
      gene_id: gene.id,
      transcript_id: '',
      position: k,
      predicted_position: null,
      true_position: null,
      pred_type: pred,
      score: track[k],
      strand: gene.strand,
      donor_score: scores.donor[k],
      acceptor_score: scores.acceptor[k],
      neither_score: scores.neither[k],
      splice_type: type,
      chrom: gene.chrom,
      context_score_m2: at(k - 2),
      context_score_m1: at(k - 1),
      context_score_p1: at(k + 1),
      context_score_p2: at(k + 2),
      ...fields,
    };
  };
  const error = (type: SiteType, kind: 'FP' | 'FN', k: number, transcripts: string): ErrorRow => ({
    gene_id: gene.id,
    transcript_id: transcripts,
    error_type: kind,
    position: k,
    window_start: Math.max(0, k - options.errorWindow),
    window_end: Math.min(length - 1, k + options.errorWindow),
    strand: gene.strand,
    splice_type: type,
  });

  for (const type of SITE_TYPES) {
    const track = scores[type];
    const site = new Map<number, string>(); // relative index -> transcripts
    for (const [g, transcripts] of sites[type]) {
      const k = relativePosition(gene, g);
      if (k >= 0 && k < length) site.set(k, transcripts.join(','));
    }
    const c: SiteCounts = { sites: site.size, tp: 0, fp: 0, fn: 0 };
    const calls: number[] = [];
    for (let k = 0; k < length; k++) if (track[k] >= threshold) calls.push(k);
    for (const k of site.keys()) taken[k] = 1;
    for (const k of calls) taken[k] = 1;

    for (const [s, transcripts] of [...site].sort((a, b) => a[0] - b[0])) {
      let best = -1;
      for (let k = Math.max(0, s - window); k <= Math.min(length - 1, s + window); k++) {
        if (track[k] < threshold) continue;
        if (best < 0 || track[k] > track[best] || (track[k] === track[best] && Math.abs(k - s) < Math.abs(best - s))) best = k;
      }
      if (best >= 0) {
        c.tp++;
        positions.push(row(best, type, 'TP', { transcript_id: transcripts, predicted_position: best, true_position: s }));
      } else {
        c.fn++;
        positions.push(row(s, type, 'FN', { transcript_id: transcripts, true_position: s }));
        errors.push(error(type, 'FN', s, transcripts));
      }
    }
    for (const k of calls) {
      let near = false;
      for (let j = Math.max(0, k - window); j <= Math.min(length - 1, k + window) && !near; j++) near = site.has(j);
      if (near) continue;
      c.fp++;
      positions.push(row(k, type, 'FP', { predicted_position: k }));
      errors.push(error(type, 'FP', k, ''));
    }
    counts[type] = c;
  }

  let free = 0;
  for (let k = 0; k < length; k++) if (!taken[k]) free++;
  const labelled = positions.length;
  const { tnSample } = options;
  const want = tnSample === 'all' ? free : tnSample === 'none' ? 0 : Math.round(tnSample * labelled);
  const picked = want >= free ? undefined : sampleIndices(free, want, seededRandom(geneSeed(options.seed, gene.id)));
  let rank = 0;
  let next = 0;
  for (let k = 0; k < length && (picked === undefined || next < picked.length); k++) {
    if (taken[k]) continue;
    if (picked === undefined || picked[next] === rank) {
      positions.push(row(k, '', 'TN', {}));
      next++;
    }
    rank++;
  }

  const typeOrder = { acceptor: 0, donor: 1, '': 2 } as const;
  positions.sort((a, b) => a.position - b.position || typeOrder[a.splice_type] - typeOrder[b.splice_type] || (a.true_position ?? -1) - (b.true_position ?? -1));
  errors.sort((a, b) => a.position - b.position || typeOrder[a.splice_type] - typeOrder[b.splice_type] || (a.error_type < b.error_type ? -1 : 1));
  return { positions, errors, counts };
}
