import { InputError } from '@metaspliceai/core';
import type { GeneModel, GeneModelGene, GeneModelTranscript } from './gene-model.js';
import type { AnnotationRecord } from './table.js';

export interface CompileOptions {
  /**
   * `canonical` (default): one transcript per gene, as SpliceAI's tables have: MANE Select, else
   * Ensembl canonical, else RefSeq Select, else the longest (exonic length, then span).
   * `all`: every transcript, each a row named by its gene.
   */
  transcripts?: 'canonical' | 'all';
  /** Keep only genes of these biotypes (`gene_type`/`gene_biotype`, else the transcript's); default all. */
  biotypes?: readonly string[];
}

export interface CompileStats {
  genes: number;
  rows: number;
  /** Genes left out by the biotype filter. */
  filtered: number;
  /** Transcripts without exons or without a + / - strand, which SpliceAI could not score. */
  unusable: number;
}

const PREFERENCE: readonly (readonly string[])[] = [['MANE_Select', 'MANE Select'], ['Ensembl_canonical'], ['RefSeq Select', 'RefSeq_Select']];

/** How strongly a transcript is marked as its gene's representative (higher wins). */
function rank(t: GeneModelTranscript): number {
  for (let i = 0; i < PREFERENCE.length; i++) if (PREFERENCE[i].some((tag) => t.tags.includes(tag))) return PREFERENCE.length - i;
  return 0;
}

const exonicLength = (t: GeneModelTranscript) => t.exons.reduce((n, e) => n + e.end - e.start + 1, 0);

/** The transcript a gene is represented by in a canonical table (see CompileOptions). */
export function canonicalTranscript(gene: GeneModelGene): GeneModelTranscript | undefined {
  let best: GeneModelTranscript | undefined;
  for (const t of gene.transcripts) {
    if (!usable(t)) continue;
    if (
      !best ||
      rank(t) > rank(best) ||
      (rank(t) === rank(best) && (exonicLength(t) > exonicLength(best) || (exonicLength(t) === exonicLength(best) && t.end - t.start > best.end - best.start)))
    ) {
      best = t;
    }
  }
  return best;
}

function usable(t: GeneModelTranscript): boolean {
  return t.exons.length > 0 && (t.strand === '+' || t.strand === '-');
}

/**
 * A transcript as a SpliceAI table row. GTF/GFF3 are 1-based inclusive; the table is 0-based
 * half-open, so starts lose 1 and ends stay: exon `100..200` becomes `EXON_START 99`,
 * `EXON_END 200`. Overlapping or touching exons are kept as written.
 */
export function transcriptToRecord(t: GeneModelTranscript): AnnotationRecord {
  if (t.strand !== '+' && t.strand !== '-') {
    throw new InputError(`transcript ${t.id} (gene ${t.geneName}, ${t.chrom}:${t.start}-${t.end}) has no + or - strand, so it cannot be a table row`, {
      hint: 'give the transcript a strand in the GTF/GFF3 (column 7), or leave it out',
    });
  }
  return {
    name: t.geneName,
    chrom: t.chrom,
    strand: t.strand,
    txStart: t.start - 1,
    txEnd: t.end,
    exonStarts: t.exons.map((e) => e.start - 1),
    exonEnds: t.exons.map((e) => e.end),
    transcriptId: t.id,
    geneId: t.geneId,
    ...(t.biotype ? { biotype: t.biotype } : {}),
    tags: t.tags,
  };
}

/**
 * Compiles a GTF/GFF3 gene model into SpliceAI annotation rows, sorted by contig (in file order),
 * then TX_START, then name.
 */
export function compileAnnotationTable(model: GeneModel, options: CompileOptions = {}): { rows: AnnotationRecord[]; stats: CompileStats } {
  const biotypes = options.biotypes?.length ? new Set(options.biotypes) : undefined;
  const stats: CompileStats = { genes: 0, rows: 0, filtered: 0, unusable: 0 };
  const rows: AnnotationRecord[] = [];
  for (const gene of model.genes) {
    if (biotypes) {
      const types = gene.biotype ? [gene.biotype] : gene.transcripts.map((t) => t.biotype ?? '');
      if (!types.some((b) => biotypes.has(b))) {
        stats.filtered++;
        continue;
      }
    }
    stats.unusable += gene.transcripts.filter((t) => !usable(t)).length;
    const chosen = options.transcripts === 'all' ? gene.transcripts.filter(usable) : [canonicalTranscript(gene)].filter((t): t is GeneModelTranscript => !!t);
    if (chosen.length) stats.genes++;
    for (const t of chosen) rows.push(transcriptToRecord(t));
  }
  const chromOrder = new Map(model.chroms.map((c, i) => [c, i]));
  rows.sort(
    (a, b) => (chromOrder.get(a.chrom) ?? 0) - (chromOrder.get(b.chrom) ?? 0) || a.txStart - b.txStart || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  stats.rows = rows.length;
  return { rows, stats };
}
