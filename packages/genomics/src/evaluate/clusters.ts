/** A stretch of one strand predicted once for the genes in it. */
export interface GeneCluster<G> {
  strand: '+' | '-';
  /** 1-based inclusive span: from the first gene's start to the last end. */
  start: number;
  end: number;
  genes: G[];
}

/** The most bases one cluster spans (its scores are held in memory: 12 bytes a base). */
export const MAX_CLUSTER_BASES = 2_000_000;

/**
 * Groups genes of one contig whose model inputs overlap: on the same strand and at most `context`
 * bases apart (a gene inside another included). One prediction over the span costs its length plus
 * one context, where separate ones cost each gene's length plus a context each, so a gap shorter
 * than the context is cheaper to predict than to pad twice; a base of two overlapping genes is
 * predicted once and evaluated once per gene. Clusters come out by start; genes keep their order.
 */
export function clusterGenes<G extends { gene: { start: number; end: number; strand: string } }>(
  genes: readonly G[],
  context: number,
  maxBases = MAX_CLUSTER_BASES,
): GeneCluster<G>[] {
  const clusters: GeneCluster<G>[] = [];
  const open: Partial<Record<'+' | '-', GeneCluster<G>>> = {};
  const sorted = [...genes].sort((a, b) => a.gene.start - b.gene.start || a.gene.end - b.gene.end);
  for (const g of sorted) {
    const strand = g.gene.strand === '-' ? '-' : '+';
    const c = open[strand];
    if (c && g.gene.start - c.end - 1 <= context && Math.max(c.end, g.gene.end) - c.start + 1 <= maxBases) {
      c.end = Math.max(c.end, g.gene.end);
      c.genes.push(g);
      continue;
    }
    const fresh: GeneCluster<G> = { strand, start: g.gene.start, end: g.gene.end, genes: [g] };
    open[strand] = fresh;
    clusters.push(fresh);
  }
  return clusters.sort((a, b) => a.start - b.start);
}

/** Where a gene's rows start among its cluster's rows (both in the strand's 5'->3' order). */
export function clusterOffset(cluster: Pick<GeneCluster<unknown>, 'strand' | 'start' | 'end'>, gene: { start: number; end: number }): number {
  return cluster.strand === '+' ? gene.start - cluster.start : cluster.end - gene.end;
}
