import type { PathHints } from '@metaspliceai/core';

/**
 * Upstream's file names, `final.<replicate>.<head>.3.v2` (no extension): replicate 1..3, head 0..7.
 * Only this exact shape, so no other family's files (and not Pangolin's retired v1 weights,
 * `final.<j>.<i>.3`) are claimed.
 */
export const PANGOLIN_FILE_PATTERNS: readonly RegExp[] = [/(?:^|\/)final\.[1-9]\d*\.[0-7]\.3\.v2$/];

const NAME = /^final\.([1-9]\d*)\.([0-7])\.3\.v2$/;

/** The replicate and head a file name says, or undefined for any other name. */
export function parsePangolinFileName(fileName: string): { replicate: number; head: number } | undefined {
  const m = NAME.exec(fileName);
  return m ? { replicate: Number(m[1]), head: Number(m[2]) } : undefined;
}

/**
 * Every v2 file belongs to one set, `pangolin-v2`, whatever folder holds it; a member is
 * (replicate, head), e.g. `rep1-head0`. The context is read from the weights (`inspect`).
 */
export function parsePangolinPath(relativePath: string): PathHints {
  const file = relativePath.split('/').pop()!;
  const parsed = parsePangolinFileName(file);
  return { setName: 'pangolin-v2', memberId: parsed ? `rep${parsed.replicate}-head${parsed.head}` : file };
}
