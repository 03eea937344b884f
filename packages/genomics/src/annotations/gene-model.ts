/**
 * Genes, transcripts and exons read from a GTF or GFF3 file.
 *
 * Coordinates are kept exactly as GTF/GFF3 write them: **1-based, both ends inclusive**
 * (`start..end`, `end - start + 1` bases). Convert once, where needed: a 0-based half-open range
 * is `[start - 1, end)`, which is what SpliceAI tables (`TX_START`, `EXON_START`) and BED use.
 */

export type GeneStrand = '+' | '-' | '.';

/** A closed 1-based interval. */
export interface GeneModelInterval {
  start: number;
  end: number;
}

export interface GeneModelTranscript {
  id: string;
  geneId: string;
  /** The gene's symbol (GTF `gene_name`, GFF3 gene `Name` or `gene`), else its id. */
  geneName: string;
  chrom: string;
  strand: GeneStrand;
  /** From the transcript's own line, else the span of its exons. */
  start: number;
  end: number;
  /** `transcript_type`/`transcript_biotype`, else the GFF3 feature type (e.g. `mRNA`). */
  biotype?: string;
  /** Tags such as `MANE_Select`, `MANE Select`, `Ensembl_canonical`, `basic`. */
  tags: string[];
  /** Exons sorted by start, on either strand. */
  exons: GeneModelInterval[];
  /** Coding parts, sorted by start (empty for non-coding transcripts). */
  cds: GeneModelInterval[];
}

export interface GeneModelGene {
  id: string;
  name: string;
  chrom: string;
  strand: GeneStrand;
  /** From the gene's own line, else the span of its transcripts. */
  start: number;
  end: number;
  /** `gene_type` / `gene_biotype` / `biotype`, when the file says. */
  biotype?: string;
  /** In file order. */
  transcripts: GeneModelTranscript[];
}

export interface GeneModel {
  source: string;
  format: 'gtf' | 'gff3';
  /** In the order their first line appears in the file. */
  genes: GeneModelGene[];
  /** The contigs in order of first appearance. */
  chroms: string[];
}
