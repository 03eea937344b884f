import { InvalidArgumentError } from '@metaspliceai/core';

/**
 * A genomic interval as people write it: 1-based, both ends included (`chr10:93001-96000`), the
 * convention of samtools, IGV and the UCSC browser. Without `start`/`end` it means the whole contig.
 */
export interface GenomicRegion {
  chrom: string;
  /** 1-based first base. */
  start?: number;
  /** 1-based last base (included). */
  end?: number;
}

/**
 * Parses `chr:start-end` (1-based, inclusive; thousands separators `,` and `_` allowed), `chr:pos`
 * (one base) or a bare contig name (the whole contig). The contig is split at the last `:`, so
 * names that contain a colon (`HLA-A*01:01:01:01`) still parse when a range follows.
 */
export function parseRegion(text: string): GenomicRegion {
  const trimmed = text.trim();
  if (!trimmed) throw new InvalidArgumentError('a region is empty; write it as chr:start-end, e.g. chr10:93001-96000');
  const colon = trimmed.lastIndexOf(':');
  const range = colon >= 0 ? /^([\d,_]+)(?:-([\d,_]+))?$/.exec(trimmed.slice(colon + 1)) : null;
  if (!range) {
    if (/\s/.test(trimmed)) throw new InvalidArgumentError(`region "${text}" contains white space; write it as chr:start-end`);
    return { chrom: trimmed };
  }
  const chrom = trimmed.slice(0, colon);
  if (!chrom) throw new InvalidArgumentError(`region "${text}" has no contig name; write it as chr:start-end`);
  const number = (s: string) => Number(s.replace(/[,_]/g, ''));
  const start = number(range[1]);
  const end = range[2] === undefined ? start : number(range[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 1) {
    throw new InvalidArgumentError(`region "${text}": positions are 1-based whole numbers (the first base is 1)`);
  }
  if (end < start) throw new InvalidArgumentError(`region "${text}" ends before it starts`, { hint: `did you mean ${chrom}:${end}-${start}?` });
  return { chrom, start, end };
}

/** Writes a region back in the `chr:start-end` form `parseRegion` reads (no separators). */
export function formatRegion(region: GenomicRegion): string {
  if (region.start === undefined) return region.chrom;
  return `${region.chrom}:${region.start}-${region.end ?? region.start}`;
}
