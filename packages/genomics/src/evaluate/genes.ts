import { canonicalTranscript } from '../annotations/compile.js';
import type { GeneModel, GeneModelGene, GeneModelTranscript } from '../annotations/gene-model.js';
import type { AnnotationTable } from '../annotations/table.js';

/** Which transcripts of a gene give its annotated sites. */
export type TranscriptChoice = 'all' | 'canonical';

/** What `evaluate` asks for: genes by id or name, contigs, a biotype, which transcripts. */
export interface GeneSelectionOptions {
  /** Gene ids (with or without a `.version`) or names; default every gene. */
  genes?: readonly string[];
  /** Contigs, matched with or without a `chr` prefix; default all. */
  chromosomes?: readonly string[];
  /** Keep genes of these biotypes (the gene's, else any of its transcripts'). */
  biotypes?: readonly string[];
  transcripts?: TranscriptChoice;
}

/** A gene to evaluate with the transcripts its sites come from. */
export interface SelectedGene {
  gene: GeneModelGene;
  transcripts: GeneModelTranscript[];
  /** What the user asked for that matched it (the id itself when every gene is taken). */
  requested: string;
}

/** A requested gene that cannot be evaluated from the annotation, and why. */
export interface UnmatchedGene {
  requested: string;
  gene?: GeneModelGene;
  reason: string;
}

/** The genes picked, in annotation order, and the requests that matched nothing usable. */
export interface GeneSelection {
  genes: SelectedGene[];
  unmatched: UnmatchedGene[];
  /** Contigs in annotation order (the order chunks and rankings follow). */
  chroms: string[];
}

const stripChr = (name: string) => name.replace(/^chr/i, '');
const stripVersion = (id: string) => id.replace(/\.\d+$/, '');

/**
 * Picks the genes to evaluate. Every requested id gets either a gene or an `unmatched` entry
 * (so the manifest can list it); a gene without a stranded transcript with exons is unmatched
 * too, since it has no sites to judge and no strand to read.
 */
export function selectGenes(model: Pick<GeneModel, 'genes' | 'chroms'>, options: GeneSelectionOptions = {}): GeneSelection {
  const chromosomes = options.chromosomes?.length ? new Set(options.chromosomes.map(stripChr)) : undefined;
  const biotypes = options.biotypes?.length ? new Set(options.biotypes) : undefined;
  const keep = (g: GeneModelGene) =>
    (!chromosomes || chromosomes.has(stripChr(g.chrom))) &&
    (!biotypes || (g.biotype ? biotypes.has(g.biotype) : g.transcripts.some((t) => t.biotype !== undefined && biotypes.has(t.biotype))));
  const usable = (t: GeneModelTranscript) => t.exons.length > 0 && (t.strand === '+' || t.strand === '-');
  const pick = (g: GeneModelGene): GeneModelTranscript[] => {
    if (options.transcripts === 'all') return g.transcripts.filter(usable);
    const c = canonicalTranscript(g);
    return c ? [c] : [];
  };

  const genes: SelectedGene[] = [];
  const unmatched: UnmatchedGene[] = [];
  const take = (g: GeneModelGene, requested: string) => {
    const transcripts = pick(g);
    if (transcripts.length === 0 || (g.strand !== '+' && g.strand !== '-')) {
      unmatched.push({ requested, gene: g, reason: 'no transcript with exons on a + or - strand' });
    } else genes.push({ gene: g, transcripts, requested });
  };

  if (options.genes?.length) {
    const byKey = new Map<string, GeneModelGene[]>();
    const index = (key: string, g: GeneModelGene) => {
      const list = byKey.get(key) ?? [];
      if (!list.includes(g)) list.push(g);
      byKey.set(key, list);
    };
    for (const g of model.genes) {
      index(g.id, g);
      index(stripVersion(g.id), g);
      index(g.name, g);
    }
    const seen = new Set<GeneModelGene>();
    for (const requested of options.genes) {
      const found = (byKey.get(requested) ?? byKey.get(stripVersion(requested)) ?? []).filter((g) => !seen.has(g));
      const kept = found.filter(keep);
      if (kept.length === 0) {
        unmatched.push({
          requested,
          gene: found[0],
          reason: found.length ? 'left out by --chromosomes/--biotype' : 'no gene with this id or name in the annotation',
        });
        continue;
      }
      for (const g of kept) {
        seen.add(g);
        take(g, requested);
      }
    }
    // Annotation order, so chunks are the same whatever order the ids came in.
    const order = new Map(model.genes.map((g, i) => [g, i]));
    genes.sort((a, b) => order.get(a.gene)! - order.get(b.gene)!);
  } else {
    for (const g of model.genes) if (keep(g)) take(g, g.id);
  }
  return { genes, unmatched, chroms: [...model.chroms] };
}

/**
 * A SpliceAI annotation table as a gene model: rows sharing a `#NAME` are one gene (its span the
 * union of theirs), each row a transcript named `<NAME>` or, when a name has several rows,
 * `<NAME>.<n>`. Table starts are 0-based, so they gain 1 here.
 */
export function geneModelFromTable(table: AnnotationTable): Pick<GeneModel, 'source' | 'genes' | 'chroms'> {
  const genes = new Map<string, GeneModelGene>();
  const counts = new Map<string, number>();
  for (const r of table.rows) counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  const chroms: string[] = [];
  for (const r of table.rows) {
    const n = (seen.get(r.name) ?? 0) + 1;
    seen.set(r.name, n);
    const transcript: GeneModelTranscript = {
      id: counts.get(r.name)! > 1 ? `${r.name}.${n}` : r.name,
      geneId: r.name,
      geneName: r.name,
      chrom: r.chrom,
      strand: r.strand,
      start: r.txStart + 1,
      end: r.txEnd,
      tags: [],
      exons: r.exonStarts.map((s, i) => ({ start: s + 1, end: r.exonEnds[i] })).sort((a, b) => a.start - b.start),
      cds: [],
    };
    let gene = genes.get(r.name);
    if (!gene) {
      gene = { id: r.name, name: r.name, chrom: r.chrom, strand: r.strand, start: transcript.start, end: transcript.end, transcripts: [] };
      genes.set(r.name, gene);
      if (!chroms.includes(r.chrom)) chroms.push(r.chrom);
    }
    gene.start = Math.min(gene.start, transcript.start);
    gene.end = Math.max(gene.end, transcript.end);
    gene.transcripts.push(transcript);
  }
  return { source: table.source, genes: [...genes.values()], chroms };
}
