import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { GeneModel } from '../../annotations/gene-model.js';
import { readAnnotation } from '../../annotations/gff.js';
import { sniffAnnotationFormat } from '../../annotations/source.js';
import { InputError, sha256File } from '@metaspliceai/core';

/** A gene as Pangolin's variant scoring sees it: its body, strand and annotated splice sites. */
export interface PangolinGene {
  /** GTF `gene_id` (upstream prints the id, not the name). */
  id: string;
  chrom: string;
  /** 1-based, inclusive. */
  start: number;
  end: number;
  strand: '+' | '-';
  /**
   * The first and last base (1-based) of every exon of the gene's tagged transcripts, as upstream's
   * gffutils database holds them (`scripts/create_db.py` keeps only `Ensembl_canonical` ones).
   */
  sites: number[];
}

/** The genes containing a position, `+` and `-` apart, each in annotation order. */
export interface GenesAtPosition {
  plus: PangolinGene[];
  minus: PangolinGene[];
}

/**
 * Genes by contig for Pangolin's rule, read from a GTF/GFF3 gene model (no gffutils database).
 * Contig names match exactly, as upstream queries its database with the FASTA's record name.
 * Genes on strand `.` are left out (upstream files them under neither strand).
 */
export class PangolinGenes {
  private readonly byChrom = new Map<string, PangolinGene[]>();
  readonly source: string;
  readonly count: number;

  constructor(model: GeneModel, options: { tag?: string } = {}) {
    const tag = options.tag ?? 'Ensembl_canonical';
    this.source = model.source;
    let count = 0;
    for (const g of model.genes) {
      if (g.strand !== '+' && g.strand !== '-') continue;
      const sites: number[] = [];
      for (const t of g.transcripts) {
        if (!t.tags.includes(tag)) continue;
        for (const e of t.exons) sites.push(e.start, e.end);
      }
      let list = this.byChrom.get(g.chrom);
      if (!list) this.byChrom.set(g.chrom, (list = []));
      list.push({ id: g.id, chrom: g.chrom, start: g.start, end: g.end, strand: g.strand, sites });
      count++;
    }
    this.count = count;
  }

  /**
   * Upstream's `get_genes`: genes with start < pos <= end (its database query asks for features
   * over pos-1, then keeps start <= pos <= end). A gene id seen twice keeps its first place and
   * its last sites, as a Python dict does.
   */
  at(chrom: string, pos: number): GenesAtPosition {
    const plus = new Map<string, PangolinGene>();
    const minus = new Map<string, PangolinGene>();
    for (const g of this.byChrom.get(chrom) ?? []) {
      if (g.start < pos && pos <= g.end) (g.strand === '+' ? plus : minus).set(g.id, g);
    }
    return { plus: [...plus.values()], minus: [...minus.values()] };
  }
}

/** A GTF/GFF3 read for Pangolin's rule, with what provenance needs. */
export interface LoadedPangolinGenes {
  genes: PangolinGenes;
  spec: string;
  path: string;
  format: 'gtf' | 'gff3';
  sha256: string;
}

/**
 * Reads `-A` for the `pangolin` rule: a GTF or GFF3 file (plain or gzip) whose transcripts carry
 * the `Ensembl_canonical` tag, as upstream's `create_db.py` needs. SpliceAI tables (and the
 * `grch37`/`grch38` names, which are tables) have no such tags and are refused with what to pass.
 */
export async function loadPangolinGenes(spec: string, options: { cwd?: string; onWarning?: (message: string) => void } = {}): Promise<LoadedPangolinGenes> {
  const path = resolve(options.cwd ?? process.cwd(), spec);
  const hint = 'the pangolin rule takes a GTF/GFF3 file with Ensembl_canonical tags (e.g. GENCODE or Ensembl), as upstream create_db.py does';
  if (!existsSync(path)) throw new InputError(`annotation ${spec}: no such file`, { hint });
  const format = await sniffAnnotationFormat(path);
  if (format === 'table') throw new InputError(`${spec}: a SpliceAI annotation table has no Ensembl_canonical tags`, { hint });
  const model = await readAnnotation(path, { format, onWarning: options.onWarning });
  return { genes: new PangolinGenes(model), spec, path, format, sha256: await sha256File(path) };
}
