import { InputError } from '@metaspliceai/core';
import { readTextLines, type TextInput } from '../io/lines.js';
import type { GeneModel, GeneModelGene, GeneModelInterval, GeneModelTranscript, GeneStrand } from './gene-model.js';

export interface ReadAnnotationOptions {
  /** Force the dialect; by default the file name (`.gtf`, `.gff`, `.gff3`, optionally `.gz`) or the content decides. */
  format?: 'gtf' | 'gff3';
  /** Name used in messages when `input` is a stream. */
  name?: string;
  /** Non-fatal problems (an exon whose parent is never defined, ...). */
  onWarning?: (message: string) => void;
}

/** Attributes kept from feature lines; the rest are dropped to save memory on whole genomes. */
const KEPT = new Set([
  'ID',
  'Parent',
  'Name',
  'gene',
  'gene_id',
  'gene_name',
  'gene_type',
  'gene_biotype',
  'biotype',
  'transcript_id',
  'transcript_type',
  'transcript_biotype',
  'tag',
]);

type Attributes = Map<string, string[]>;

interface Feature {
  type: string;
  chrom: string;
  start: number;
  end: number;
  strand: GeneStrand;
  attributes: Attributes;
}

/**
 * Reads genes, transcripts and exons from a GTF (GENCODE, Ensembl) or GFF3 (RefSeq, Ensembl) file,
 * plain or gzip, in one streaming pass. Coordinates stay 1-based and inclusive, as in the file
 * (see gene-model.ts). GFF3 transcripts are the parents of `exon` lines, whatever their type
 * (`mRNA`, `lnc_RNA`, `transcript`, ...); an exon whose parent is a gene makes that gene its own
 * transcript. GTF transcripts without a `transcript` line are built from their exons.
 */
export async function readAnnotation(input: TextInput, options: ReadAnnotationOptions = {}): Promise<GeneModel> {
  const name = options.name ?? (typeof input === 'string' ? input : 'annotation');
  let format = options.format ?? (typeof input === 'string' ? formatFromName(input) : undefined);
  const builder = { gtf: new GtfBuilder(), gff3: new Gff3Builder() };
  const chroms: string[] = [];
  const seenChroms = new Set<string>();
  for await (const line of readTextLines(input, name)) {
    const text = line.text;
    if (text.startsWith('#')) {
      if (text.startsWith('##FASTA')) break;
      if (text.startsWith('##gff-version')) format ??= text.includes('3') ? 'gff3' : 'gtf';
      continue;
    }
    if (text.trim() === '') continue;
    const where = `${name}:${line.number}`;
    const f = text.split('\t');
    if (f.length < 9)
      throw new InputError(`${where}: ${f.length} tab-separated columns, a GTF/GFF3 feature line has 9`, {
        hint: 'check that the file is GTF or GFF3 and that columns are separated by tabs',
      });
    const start = Number(f[3]);
    const end = Number(f[4]);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 1 || end < start) {
      throw new InputError(`${where}: start "${f[3]}" and end "${f[4]}" are not a 1-based range`);
    }
    const strand: GeneStrand = f[6] === '+' || f[6] === '-' ? f[6] : '.';
    format ??= /^\s*[^\s=;]+\s+"/.test(f[8]) || !f[8].includes('=') ? 'gtf' : 'gff3';
    const attributes = format === 'gtf' ? parseGtfAttributes(f[8], where) : parseGff3Attributes(f[8]);
    if (!seenChroms.has(f[0])) {
      seenChroms.add(f[0]);
      chroms.push(f[0]);
    }
    builder[format].add({ type: f[2], chrom: f[0], start, end, strand, attributes }, where);
  }
  const warn = options.onWarning ?? (() => {});
  const genes = format === 'gff3' ? builder.gff3.finish(warn) : builder.gtf.finish();
  return { source: name, format: format ?? 'gtf', genes, chroms };
}

function formatFromName(path: string): 'gtf' | 'gff3' | undefined {
  const base = path.toLowerCase().replace(/\.(gz|bgz)$/, '');
  if (base.endsWith('.gtf')) return 'gtf';
  if (base.endsWith('.gff3') || base.endsWith('.gff')) return 'gff3';
  return undefined;
}

/** GTF: `key "value"; key value; tag "a"; tag "b";` (repeated keys collect). */
export function parseGtfAttributes(text: string, where = 'GTF'): Attributes {
  const out: Attributes = new Map();
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === ';' || text[i] === '\t')) i++;
    if (i >= n) break;
    let k = i;
    while (k < n && text[k] !== ' ' && text[k] !== ';') k++;
    const key = text.slice(i, k);
    while (k < n && text[k] === ' ') k++;
    let value: string;
    if (text[k] === '"') {
      const close = text.indexOf('"', k + 1);
      if (close === -1) throw new InputError(`${where}: unterminated quote in the attributes`);
      value = text.slice(k + 1, close);
      i = close + 1;
    } else {
      let e = k;
      while (e < n && text[e] !== ';') e++;
      value = text.slice(k, e).trim();
      i = e;
    }
    if (!KEPT.has(key)) continue;
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

/** GFF3: `key=v1,v2;key2=v` with %XX escapes decoded after splitting on commas. */
export function parseGff3Attributes(text: string): Attributes {
  const out: Attributes = new Map();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim();
    if (!KEPT.has(key)) continue;
    out.set(
      key,
      part
        .slice(eq + 1)
        .split(',')
        .map(decode),
    );
  }
  return out;
}

function decode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const first = (a: Attributes, ...keys: string[]): string | undefined => {
  for (const k of keys) {
    const v = a.get(k)?.[0];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
};

function sortIntervals(list: GeneModelInterval[]): GeneModelInterval[] {
  return list.sort((a, b) => a.start - b.start || a.end - b.end);
}

function spanOf(list: readonly GeneModelInterval[]): GeneModelInterval | undefined {
  if (!list.length) return undefined;
  return { start: Math.min(...list.map((x) => x.start)), end: Math.max(...list.map((x) => x.end)) };
}

interface PendingTranscript {
  id: string;
  geneId: string;
  geneName?: string;
  chrom: string;
  strand: GeneStrand;
  line?: GeneModelInterval;
  biotype?: string;
  tags: Set<string>;
  exons: GeneModelInterval[];
  cds: GeneModelInterval[];
}

class GtfBuilder {
  private readonly genes = new Map<string, { line?: Feature; name?: string; order: number }>();
  private readonly transcripts = new Map<string, PendingTranscript>();

  add(f: Feature, where: string): void {
    const geneId = first(f.attributes, 'gene_id');
    if (!geneId) throw new InputError(`${where}: a GTF line without gene_id`);
    let gene = this.genes.get(geneId);
    if (!gene) this.genes.set(geneId, (gene = { order: this.genes.size }));
    const geneName = first(f.attributes, 'gene_name');
    if (geneName) gene.name ??= geneName;
    if (f.type === 'gene') {
      gene.line = f;
      return;
    }
    if (f.type !== 'transcript' && f.type !== 'exon' && f.type !== 'CDS') return;
    const id = first(f.attributes, 'transcript_id');
    if (!id) throw new InputError(`${where}: a GTF ${f.type} line without transcript_id`);
    let t = this.transcripts.get(id);
    if (!t) {
      t = { id, geneId, chrom: f.chrom, strand: f.strand, tags: new Set(), exons: [], cds: [] };
      this.transcripts.set(id, t);
    }
    if (geneName) t.geneName ??= geneName;
    t.biotype ??= first(f.attributes, 'transcript_type', 'transcript_biotype');
    if (f.type === 'transcript') {
      t.line = { start: f.start, end: f.end };
      t.tags = new Set(f.attributes.get('tag') ?? []);
    } else {
      if (!t.line) for (const tag of f.attributes.get('tag') ?? []) t.tags.add(tag);
      (f.type === 'exon' ? t.exons : t.cds).push({ start: f.start, end: f.end });
    }
  }

  finish(): GeneModelGene[] {
    const byGene = new Map<string, GeneModelTranscript[]>();
    for (const t of this.transcripts.values()) {
      const gene = this.genes.get(t.geneId)!;
      const list = byGene.get(t.geneId) ?? [];
      byGene.set(t.geneId, list);
      list.push(toTranscript(t, gene.name ?? t.geneId));
    }
    const out: GeneModelGene[] = [];
    for (const [id, g] of [...this.genes.entries()].sort((a, b) => a[1].order - b[1].order)) {
      const transcripts = byGene.get(id) ?? [];
      const span = g.line ?? spanOf(transcripts);
      if (!span) continue;
      out.push({
        id,
        name: g.name ?? id,
        chrom: g.line?.chrom ?? transcripts[0].chrom,
        strand: g.line?.strand ?? transcripts[0].strand,
        start: span.start,
        end: span.end,
        biotype: g.line ? first(g.line.attributes, 'gene_type', 'gene_biotype', 'biotype') : undefined,
        transcripts,
      });
    }
    return out;
  }
}

function toTranscript(t: PendingTranscript, geneName: string): GeneModelTranscript {
  const exons = sortIntervals(t.exons);
  const span = t.line ?? spanOf(exons) ?? spanOf(t.cds)!;
  return {
    id: t.id,
    geneId: t.geneId,
    geneName: t.geneName ?? geneName,
    chrom: t.chrom,
    strand: t.strand,
    start: span.start,
    end: span.end,
    biotype: t.biotype,
    tags: [...t.tags],
    exons,
    cds: sortIntervals(t.cds),
  };
}

const GENE_TYPE = /gene$/i;

class Gff3Builder {
  /** Features with an ID (genes, transcripts, ...), in order of first appearance. */
  private readonly features = new Map<string, Feature & { parents: string[] }>();
  private readonly parts: { type: 'exon' | 'CDS'; parents: string[]; start: number; end: number; where: string }[] = [];

  add(f: Feature, where: string): void {
    const parents = f.attributes.get('Parent') ?? [];
    if (f.type === 'exon' || f.type === 'CDS') {
      if (!parents.length) throw new InputError(`${where}: a GFF3 ${f.type} without Parent`);
      this.parts.push({ type: f.type, parents, start: f.start, end: f.end, where });
      return;
    }
    const id = first(f.attributes, 'ID');
    if (!id) return;
    const known = this.features.get(id);
    if (known) {
      // A feature split over several lines (same ID): its span covers them all.
      known.start = Math.min(known.start, f.start);
      known.end = Math.max(known.end, f.end);
      return;
    }
    this.features.set(id, { ...f, parents });
  }

  /** The gene a feature belongs to: up the Parent chain to a `*gene` feature or a feature without parents. */
  private geneOf(id: string): string {
    let current = id;
    for (let depth = 0; depth < 16; depth++) {
      const f = this.features.get(current);
      if (!f || GENE_TYPE.test(f.type) || !f.parents.length || !this.features.has(f.parents[0])) return current;
      current = f.parents[0];
    }
    return current;
  }

  finish(warn: (message: string) => void): GeneModelGene[] {
    const transcripts = new Map<string, PendingTranscript>();
    for (const part of this.parts) {
      for (const parentId of part.parents) {
        let t = transcripts.get(parentId);
        if (!t) {
          const feature = this.features.get(parentId);
          if (!feature) {
            warn(`${part.where}: ${part.type} parent ${parentId} is not defined in the file; skipped`);
            continue;
          }
          const geneFeatureId = this.geneOf(parentId);
          t = {
            id: parentId,
            geneId: geneFeatureId,
            chrom: feature.chrom,
            strand: feature.strand,
            line: { start: feature.start, end: feature.end },
            biotype: first(feature.attributes, 'transcript_biotype', 'transcript_type', 'biotype') ?? feature.type,
            tags: new Set(feature.attributes.get('tag') ?? []),
            geneName: first(feature.attributes, 'gene', 'gene_name'),
            exons: [],
            cds: [],
          };
          transcripts.set(parentId, t);
        }
        (part.type === 'exon' ? t.exons : t.cds).push({ start: part.start, end: part.end });
      }
    }
    const byGene = new Map<string, PendingTranscript[]>();
    for (const t of transcripts.values()) {
      const list = byGene.get(t.geneId) ?? [];
      byGene.set(t.geneId, list);
      list.push(t);
    }
    const featureOrder = new Map([...this.features.keys()].map((id, i) => [id, i]));
    const out: GeneModelGene[] = [];
    const geneIds = [...byGene.keys()].sort((a, b) => (featureOrder.get(a) ?? Infinity) - (featureOrder.get(b) ?? Infinity));
    for (const geneId of geneIds) {
      const pending = byGene.get(geneId)!;
      const g = this.features.get(geneId);
      const ownName = g && (GENE_TYPE.test(g.type) ? first(g.attributes, 'Name', 'gene', 'gene_name') : first(g.attributes, 'gene', 'gene_name', 'Name'));
      const name = ownName ?? pending.find((t) => t.geneName)?.geneName ?? geneId;
      const list = pending
        .sort((a, b) => (featureOrder.get(a.id) ?? 0) - (featureOrder.get(b.id) ?? 0))
        .map((t) => toTranscript({ ...t, geneName: name }, name));
      const span = g ? { start: g.start, end: g.end } : spanOf(list)!;
      out.push({
        id: geneId,
        name,
        chrom: g?.chrom ?? list[0].chrom,
        strand: g?.strand ?? list[0].strand,
        start: span.start,
        end: span.end,
        biotype: g ? first(g.attributes, 'gene_biotype', 'biotype', 'gene_type') : undefined,
        transcripts: list,
      });
    }
    return out;
  }
}
