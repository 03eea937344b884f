/**
 * SpliceAI's checks on a record before any model runs (position, contig, genes, REF, alleles), the
 * (ALT, gene) entries they leave to score, and the masked sequences those entries are scored on.
 */
import { CODE_N, encodeVariantSequence, type VariantEncoding } from '@metaspliceai/core';
import type { AnnotationIndex, TranscriptHit } from '../annotations/lookup.js';
import type { FastaReader } from '../io/fasta.js';
import { formatDeltaEntry } from './delta.js';
import type { SkipReason, VariantInput, VariantScore } from './scorer.js';

/** What planning, the shared references and the cones read of a scorer. */
export interface ScoringSetup {
  readonly fasta: FastaReader;
  readonly annotation: AnnotationIndex;
  readonly encoding: VariantEncoding;
  /** SpliceAI `-D`. */
  readonly dist: number;
  /** The model's context (input positions an output needs beyond itself, both sides together). */
  readonly context: number;
}

/** A record once checked: its result (entries to fill or a skip), window and transcripts. */
export interface Plan {
  result: VariantScore;
  /** The unmasked window of `context + 2 * dist + 1` nt around POS, encoded. */
  window?: Uint8Array;
  hits: TranscriptHit[];
  fastaName?: string;
}

/** One (record, ALT, transcript) to run a model for. */
export interface Job {
  record: number;
  hit: TranscriptHit;
  alt: string;
  /** The ALT allele's codes. */
  altCodes: Uint8Array;
  /** Index of its entry in the record's result. */
  entry: number;
}

/** REF and ALT rows of a job, `(2 * dist + 1, 3)` in genome order. */
export type JobRows = Map<Job, { ref: Float32Array; alt: Float32Array }>;

const SKIPPED_ALT = /[.\-*<>[\]]/;
/** An allele of plain bases: only these are scored (see `VariantScore.ambiguousAlts`). */
const PLAIN_BASES = /^[ACGTN]+$/i;

/** The genome position of a job's record. */
export function jobPosition(plans: readonly Plan[], job: Job): number {
  return plans[job.record].result.variant.pos;
}

/** The checks SpliceAI makes before running a model, and the (ALT, gene) entries to fill. */
export async function planVariant(setup: ScoringSetup, variant: VariantInput): Promise<Plan> {
  const { fasta } = setup;
  const result: VariantScore = { variant, entries: [], ignoredAlts: [], ambiguousAlts: [] };
  const skip = (reason: SkipReason, message: string): Plan => ({ result: { ...result, skipped: { reason, message } }, hits: [] });
  if (!Number.isInteger(variant.pos) || variant.pos < 1) return skip('invalid-position', `POS ${variant.pos} is not a position (VCF positions start at 1)`);
  const hits = setup.annotation.overlapping(variant.chrom, variant.pos);
  const fastaName = await fasta.resolveName(variant.chrom);
  // Past the contig's end is checked before genes, so a VCF for another assembly is not "outside genes".
  const length = fastaName === undefined ? undefined : await fasta.length(fastaName);
  const last = variant.pos + Math.max(variant.ref.length, 1) - 1;
  if (length !== undefined && last > length) {
    return skip(
      'invalid-position',
      `${variant.pos > length ? `POS ${variant.pos}` : `REF ends at ${last}, which`} is past the end of ${fastaName} (${length} nt) in ${fasta.path}`,
    );
  }
  if (hits.length === 0) return skip('outside-genes', 'not inside any transcript of the annotation');
  if (fastaName === undefined || length === undefined) return skip('contig-missing', `contig ${variant.chrom} is not in the reference ${fasta.path}`);
  const half = setup.context / 2 + setup.dist;
  const start = variant.pos - half - 1;
  const end = variant.pos + half;
  if (start < 0 || end > length) return skip('contig-end', `within ${half} nt of the end of ${fastaName} (the window is ${2 * half + 1} nt)`);
  const sequence = await fasta.fetch(fastaName, start, end);
  const ref =
    variant.ref.length <= half + 1
      ? sequence.slice(half, half + variant.ref.length)
      : await fasta.fetch(fastaName, variant.pos - 1, variant.pos - 1 + variant.ref.length);
  if (ref.toUpperCase() !== variant.ref.toUpperCase()) {
    const shown = ref.length > 20 ? `${ref.slice(0, 20)}...` : ref;
    return skip('ref-mismatch', `REF ${variant.ref.length > 20 ? `${variant.ref.slice(0, 20)}...` : variant.ref} does not match the reference (${shown})`);
  }
  if (variant.ref.length > 2 * setup.dist) return skip('ref-too-long', `REF is ${variant.ref.length} nt, longer than 2*dist = ${2 * setup.dist}`);
  const ambiguousRef = !PLAIN_BASES.test(variant.ref);
  for (const alt of variant.alts) {
    if (alt === '' || SKIPPED_ALT.test(alt)) {
      result.ignoredAlts.push(alt);
      continue;
    }
    const dots = variant.ref.length > 1 && alt.length > 1; // SpliceAI prints dots: nothing is computed
    if (!dots && (ambiguousRef || !PLAIN_BASES.test(alt))) {
      result.ignoredAlts.push(alt);
      result.ambiguousAlts.push(alt);
      continue;
    }
    for (const hit of hits) {
      result.entries.push({
        alt,
        gene: hit.row.name,
        strand: hit.row.strand,
        transcriptIndex: hit.index,
        // Empty until scoreMany fills it in after the model runs.
        text: dots ? formatDeltaEntry(alt, hit.row.name, undefined) : '',
      });
    }
  }
  if (result.entries.length === 0) {
    const why = ambiguousRef
      ? `; REF ${variant.ref} holds a letter other than A, C, G, T, N`
      : result.ambiguousAlts.length
        ? `; IUPAC codes or other letters than A, C, G, T, N are not scored`
        : '';
    return skip('no-scorable-alt', variant.alts.length ? `no ALT can be scored (${variant.alts.join(',')})${why}` : 'no ALT allele');
  }
  return { result, window: encodeVariantSequence(sequence, setup.encoding), hits, fastaName };
}

/** The entries of every plan that need a model (those without text yet), as jobs. */
export function jobsOf(plans: readonly Plan[], encoding: VariantEncoding): Job[] {
  const jobs: Job[] = [];
  plans.forEach((plan, record) => {
    plan.result.entries.forEach((entry, index) => {
      if (entry.text) return; // dots: nothing to run
      const hit = plan.hits.find((h) => h.index === entry.transcriptIndex)!;
      jobs.push({ record, hit, alt: entry.alt, altCodes: encodeVariantSequence(entry.alt, encoding), entry: index });
    });
  });
  return jobs;
}

/** A record's window with N outside the transcript, as SpliceAI pads it. */
export function maskWindow(setup: ScoringSetup, window: Uint8Array, pos: number, hit: TranscriptHit): Uint8Array {
  const half = setup.context / 2 + setup.dist;
  const lead = Math.max(half + (hit.row.txStart + 1 - pos), 0);
  const trail = Math.max(half - (hit.row.txEnd - pos), 0);
  if (lead === 0 && trail === 0) return window;
  const out = window.slice();
  out.fill(CODE_N, 0, Math.min(lead, out.length));
  out.fill(CODE_N, Math.max(out.length - trail, 0));
  return out;
}

/** Codes of 1-based positions `from..to` with N outside the contig and outside the transcript. */
export async function maskedGenome(setup: ScoringSetup, fastaName: string, hit: TranscriptHit, from: number, to: number): Promise<Uint8Array> {
  const out = new Uint8Array(to - from + 1);
  const lo = Math.max(from, hit.row.txStart + 1);
  const hi = Math.min(to, hit.row.txEnd);
  if (lo <= hi) {
    const bases = await setup.fasta.fetch(fastaName, lo - 1, hi);
    out.set(encodeVariantSequence(bases, setup.encoding), lo - from);
  }
  return out;
}
