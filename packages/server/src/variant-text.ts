import { InvalidArgumentError } from '@metaspliceai/core';

/** A variant as a lookup names it; `ref`/`alt` are absent for a REF-only (`chrom-pos`) query. */
export interface LookupVariant {
  /** The contig without a `chr` prefix, as SpliceAI-lookup reports it (`1`, `X`, `MT`). */
  chrom: string;
  pos: number;
  ref?: string;
  alt?: string;
}

// SpliceAI-lookup's VARIANT_RE, widened to the forms people paste: `chr1-69091-A-C`, `1:69091 A>C`,
// `chr1 69091 A C`, and a bare `chr1-69091` / `1:69091` for the reference-only scores.
const VARIANT = /^(?:chr)?([0-9XYMT]{1,2}|[A-Za-z0-9_.]{1,40}?)[-\s:]+([0-9]{1,10})(?:[-\s:]+([ACGTN]+)[-\s:>]+([ACGTN]+))?$/i;

/**
 * Parses the `variant` parameter. Chromosome names keep their case but lose a `chr` prefix; alleles
 * are upper-cased. Anything else is an InvalidArgumentError quoting the text.
 */
export function parseLookupVariant(text: string): LookupVariant {
  const cleaned = text
    .trim()
    .replace(/^['",]+|['",]+$/g, '')
    .trim();
  const m = VARIANT.exec(cleaned);
  if (!m) {
    throw new InvalidArgumentError(`Unable to parse variant: "${text.slice(0, 80)}"`, {
      hint: 'write it as chrom-pos-ref-alt (chr1-69091-A-C), chrom:pos ref>alt (chr1:69091 A>C), or chrom-pos for the reference scores',
    });
  }
  const chrom = /^MT?$/i.test(m[1]) ? m[1].toUpperCase() : /^[xy]$/.test(m[1]) ? m[1].toUpperCase() : m[1];
  const pos = Number(m[2]);
  if (!Number.isSafeInteger(pos) || pos < 1) throw new InvalidArgumentError(`Invalid position in variant "${text.slice(0, 80)}": positions start at 1`);
  return m[3] ? { chrom, pos, ref: m[3].toUpperCase(), alt: m[4].toUpperCase() } : { chrom, pos };
}

/** `chrom-pos-ref-alt` (or `chrom-pos`), the canonical spelling used in responses and cache keys. */
export function formatLookupVariant(v: LookupVariant): string {
  return v.ref === undefined ? `${v.chrom}-${v.pos}` : `${v.chrom}-${v.pos}-${v.ref}-${v.alt}`;
}
