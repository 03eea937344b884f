import { encodeSequence, InputError, InvalidArgumentError } from '@metaspliceai/core';
import type { FastaReader } from '../io/fasta.js';
import { formatRegion, type GenomicRegion } from '../sequence/regions.js';

/** The strand a query reads: `+` as the sequence is written, `-` its reverse complement. */
export type QueryStrand = '+' | '-';

/** Where a sequence lies in a genome: contig and 1-based inclusive coordinates of its bases. */
export interface SequenceLocus {
  chrom: string;
  start: number;
  end: number;
  /** The contig's length, when known: BED rows are clipped to it. */
  contigLength?: number;
}

/**
 * One query of sequence inference: `length` bases, read on `strand`. Its bases come from `read`
 * in forward (genome) orientation, so one source serves both strands and a region can bring its
 * real flanking bases along; inference reverse-complements for `-` itself.
 */
export interface SequenceInput {
  /** The name written with every row: a record name, a region (`chr10:93001-96000`) or a gene. */
  readonly name: string;
  readonly strand: QueryStrand;
  readonly length: number;
  /** Set for regions and genes: rows are labelled with genome coordinates. */
  readonly locus?: SequenceLocus;
  /** `read` gives N beyond both ends (a raw sequence, a whole record): short ones may share tiles. */
  readonly isolated?: boolean;
  /**
   * Forward-strand codes (see `encodeSequence`) of the bases `[from, to)`, counted from the
   * query's first forward base. The range may reach outside `[0, length)`: the bases there are
   * the genome's where it has them (a region's flanks) and N elsewhere, as the reference tools pad.
   */
  read(from: number, to: number): Uint8Array | Promise<Uint8Array>;
  /** Frees what the input holds (a spilled temp file); inference calls it after the last row. */
  dispose?(): void | Promise<void>;
}

/**
 * The label of row `k` of a query, counted in the query's orientation (row 0 is its 5' end): the
 * 1-based genome coordinate for a region or gene, else the 1-based index into the sequence as
 * given. On `-` the labels descend, since the query runs 3'->5' along the forward strand.
 */
export function rowPosition(input: Pick<SequenceInput, 'strand' | 'length' | 'locus'>, k: number): number {
  const index = input.strand === '+' ? k : input.length - 1 - k;
  return (input.locus?.start ?? 1) + index;
}

/** A slice of in-memory codes, N outside them (what a raw sequence has instead of flanks). */
export function readPadded(codes: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, to - from));
  const lo = Math.max(from, 0);
  const hi = Math.min(to, codes.length);
  if (hi > lo) out.set(codes.subarray(lo, hi), lo - from);
  return out;
}

/**
 * A raw sequence as a query: any case, every symbol other than A, C, G, T read as N, and N beyond
 * both ends (there is no genome around it), exactly as the reference tools pad.
 */
export function sequenceInput(name: string, sequence: string | Uint8Array, options: { strand?: QueryStrand } = {}): SequenceInput {
  const codes = typeof sequence === 'string' ? encodeSequence(sequence) : sequence;
  return { name, strand: options.strand ?? '+', length: codes.length, isolated: true, read: (from, to) => readPadded(codes, from, to) };
}

export interface RegionInputOptions {
  strand?: QueryStrand;
  /** The row name; default the region as `chrom:start-end` with the FASTA's contig name. */
  name?: string;
  /** Label rows with genome coordinates (default true; false for whole FASTA records). */
  located?: boolean;
}

/**
 * A region of an indexed FASTA as a query. The model's context around it is read from the FASTA
 * (a region's flanks are real sequence, as a gene's are in the genome), and is N only beyond the
 * contig's ends. The contig matches with or without a `chr` prefix.
 */
export async function fastaRegionInput(fasta: FastaReader, region: GenomicRegion, options: RegionInputOptions = {}): Promise<SequenceInput> {
  const chrom = await fasta.resolveName(region.chrom);
  if (chrom === undefined) {
    const names = await fasta.names();
    const shown = names.slice(0, 8).join(', ') + (names.length > 8 ? `, ... (${names.length} in all)` : '');
    throw new InputError(`${fasta.path}: no contig ${region.chrom} for region ${formatRegion(region)}; the file has ${shown}`);
  }
  const size = (await fasta.length(chrom))!;
  const start = region.start ?? 1;
  const end = region.end ?? size;
  if (end > size) {
    throw new InputError(`region ${formatRegion(region)} ends past the end of ${chrom} (${size} bases in ${fasta.path})`, {
      hint: `the last base of ${chrom} is ${chrom}:${size}`,
    });
  }
  if (end < start) throw new InvalidArgumentError(`region ${formatRegion(region)} is empty`);
  const offset = start - 1; // 0-based forward coordinate of the first base
  return {
    name: options.name ?? formatRegion({ chrom, start, end }),
    strand: options.strand ?? '+',
    length: end - start + 1,
    locus: options.located === false ? undefined : { chrom, start, end, contigLength: size },
    isolated: start === 1 && end === size,
    read: (from, to) => readContig(fasta, chrom, size, offset + from, offset + to),
  };
}

/** Every record of a FASTA file as a query of its own, in file order (N beyond the record ends). */
export async function* fastaRecordInputs(fasta: FastaReader, options: { strand?: QueryStrand } = {}): AsyncGenerator<SequenceInput> {
  for (const name of await fasta.names()) {
    const size = (await fasta.length(name))!;
    if (size === 0) {
      yield { name, strand: options.strand ?? '+', length: 0, read: (from, to) => new Uint8Array(to - from) };
      continue;
    }
    yield fastaRegionInput(fasta, { chrom: name }, { strand: options.strand, name, located: false });
  }
}

/** The fields of an annotated gene that prediction needs (1-based inclusive coordinates). */
export interface GeneLike {
  chrom: string;
  start: number;
  end: number;
  strand: QueryStrand | '.' | string;
  /** The row name: the gene's name or ID. */
  name: string;
}

export interface GeneInputOptions {
  /** Called for each gene that is skipped (contig missing from the FASTA, or out of its range). */
  onSkip?: (gene: GeneLike, reason: string) => void;
}

/**
 * Every gene of an annotation as a query on its own strand, with real flanks from the FASTA.
 * Genes on contigs the FASTA lacks (an annotation usually covers more than the FASTA at hand)
 * are skipped and reported through `onSkip`, not thrown. An unstranded gene is read on `+`.
 */
export async function* geneInputs(
  fasta: FastaReader,
  genes: Iterable<GeneLike> | AsyncIterable<GeneLike>,
  options: GeneInputOptions = {},
): AsyncGenerator<SequenceInput> {
  for await (const gene of genes) {
    const chrom = await fasta.resolveName(gene.chrom);
    if (chrom === undefined) {
      options.onSkip?.(gene, `no contig ${gene.chrom} in ${fasta.path}`);
      continue;
    }
    const size = (await fasta.length(chrom))!;
    if (gene.start < 1 || gene.end > size || gene.end < gene.start) {
      options.onSkip?.(gene, `${gene.chrom}:${gene.start}-${gene.end} lies outside ${chrom} (${size} bases)`);
      continue;
    }
    yield fastaRegionInput(fasta, { chrom, start: gene.start, end: gene.end }, { strand: gene.strand === '-' ? '-' : '+', name: gene.name });
  }
}

/** Reads forward codes `[from, to)` of a contig, N where the range leaves it. */
async function readContig(fasta: FastaReader, chrom: string, size: number, from: number, to: number): Promise<Uint8Array> {
  const out = new Uint8Array(Math.max(0, to - from));
  const lo = Math.max(from, 0);
  const hi = Math.min(to, size);
  if (hi > lo) out.set(encodeSequence(await fasta.fetch(chrom, lo, hi)), lo - from);
  return out;
}
