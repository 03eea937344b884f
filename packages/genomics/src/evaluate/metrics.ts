import type { SiteCounts } from './labels.js';

/** One evaluated position as the ranking metrics see it. */
export interface RankedPosition {
  score: number;
  /** Index of the contig in the run's contig order. */
  chrom: number;
  /** 1-based genome coordinate. */
  position: number;
  /** Whether it is an annotated site of the type ranked. */
  site: boolean;
}

/**
 * The ranking order of the metrics: probability descending, ties by genomic position (contig in
 * run order, then coordinate). A base evaluated in two genes keeps its input order.
 */
export function compareRanked(a: RankedPosition, b: RankedPosition): number {
  return b.score - a.score || a.chrom - b.chrom || a.position - b.position;
}

/** Running top-k accuracy and average precision over positions fed in ranking order. */
export class RankingAccumulator {
  private seen = 0;
  private hits = 0;
  private topHits = 0;
  private sum = 0;

  /** `positives`: the number of annotated sites among all ranked positions (k of top-k). */
  constructor(readonly positives: number) {}

  add(site: boolean): void {
    this.seen++;
    if (!site) return;
    this.hits++;
    if (this.seen <= this.positives) this.topHits++;
    // Recall rises by 1/P at each site: (R_n - R_(n-1)) * P_n.
    this.sum += this.hits / this.seen;
  }

  /** Of the k highest-ranked positions (k = number of sites), the fraction that are sites. */
  get topKAccuracy(): number | null {
    return this.positives > 0 ? this.topHits / this.positives : null;
  }

  /** Average precision: sum over ranks of (R_n - R_(n-1)) * P_n. */
  get averagePrecision(): number | null {
    return this.positives > 0 ? this.sum / this.positives : null;
  }
}

/** Top-k accuracy and average precision of positions held in memory (sorts a copy). */
export function rankingMetrics(positions: readonly RankedPosition[]): { topKAccuracy: number | null; averagePrecision: number | null } {
  const ranked = [...positions].sort(compareRanked);
  const acc = new RankingAccumulator(ranked.filter((p) => p.site).length);
  for (const p of ranked) acc.add(p.site);
  return { topKAccuracy: acc.topKAccuracy, averagePrecision: acc.averagePrecision };
}

/** The metrics of one site type as `evaluation_metrics.json` writes them. */
export interface SiteTypeMetrics {
  sites: number;
  top_k_accuracy: number | null;
  pr_auc: number | null;
  tp: number;
  fp: number;
  fn: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

/**
 * Precision, recall and F1 of the calls at the threshold from TP/FP/FN as labelling counts them
 * (null where the denominator is 0).
 */
export function precisionRecallF1(counts: Pick<SiteCounts, 'tp' | 'fp' | 'fn'>): { precision: number | null; recall: number | null; f1: number | null } {
  const { tp, fp, fn } = counts;
  const precision = tp + fp > 0 ? tp / (tp + fp) : null;
  const recall = tp + fn > 0 ? tp / (tp + fn) : null;
  const f1 =
    precision !== null && recall !== null && precision + recall > 0
      ? (2 * precision * recall) / (precision + recall)
      : precision === null || recall === null
        ? null
        : 0;
  return { precision, recall, f1 };
}
