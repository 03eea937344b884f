import type { PathHints } from '@metaspliceai/core';

/**
 * Illumina's release names (`spliceai1..5.h5`), the training release (`SpliceNet<F>_<c|g><n>.h5`),
 * and, harmlessly, names like `spliceai_10k.h5` that guesses at the layout used.
 */
export const SPLICEAI_FILE_PATTERNS: readonly RegExp[] = [
  /(?:^|\/)spliceai\d+\.h5$/i,
  /(?:^|\/)SpliceNet\d+_[a-z]\d+\.h5$/i,
  /(?:^|\/)spliceai[_-][^/]*\.(?:h5|hdf5)$/i,
];

/** Set name, context hint and member id from a SpliceAI file name. */
export function parseSpliceAIPath(relativePath: string): PathHints {
  const file = relativePath.split('/').pop()!;
  const base = file.replace(/\.(?:h5|hdf5)$/i, '');
  const release = /^spliceai(\d+)$/i.exec(base);
  if (release) return { setName: 'spliceai', context: 10000, memberId: `spliceai${release[1]}` };
  const training = /^SpliceNet(\d+)_([a-z])(\d+)$/i.exec(base);
  if (training) {
    return { setName: `splicenet-${training[2].toLowerCase()}`, context: Number(training[1]), memberId: `${training[2].toLowerCase()}${training[3]}` };
  }
  const hint = /(\d+)(k|nt)\b/i.exec(base);
  const context = hint ? Number(hint[1]) * (hint[2].toLowerCase() === 'k' ? 1000 : 1) : undefined;
  return { setName: 'spliceai', context, memberId: base.toLowerCase() };
}
