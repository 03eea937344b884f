import type { PathHints } from '@metaspliceai/core';

/** The real layout `openspliceai-<species>/<F>nt/model_<F>nt_rs<seed>.pt`, then loose checkpoints. */
export const OPENSPLICEAI_FILE_PATTERNS: readonly RegExp[] = [
  /(?:^|\/)openspliceai-[^/]+\/\d+nt\/[^/]+\.(?:pt|pth|onnx)$/i,
  /\.(?:pt|pth)$/i,
  /(?:^|\/)[^/]*openspliceai[^/]*\.onnx$/i,
  /(?:^|\/)openspliceai[^/]*\/(?:[^/]+\/)*[^/]+\.onnx$/i,
];

/**
 * Reads the set name from the species folder (`openspliceai-mane`), the context hint from the
 * `<F>nt` folder or file name (`10k` too), and the member id from the seed (`rs10`).
 */
export function parseOpenSpliceAIPath(relativePath: string): PathHints {
  const parts = relativePath.split('/');
  const file = parts[parts.length - 1];
  const base = file.replace(/\.(?:pt|pth|onnx)$/i, '');
  const species = parts
    .slice(0, -1)
    .reverse()
    .find((p) => /^openspliceai-/i.test(p));
  const parent = parts.length > 1 ? parts[parts.length - 2] : undefined;
  const folderContext = parent && /^(\d+)nt$/i.exec(parent);
  const setName = (species ?? (parent && !folderContext ? parent : parts.length > 2 ? parts[parts.length - 3] : undefined) ?? 'openspliceai').toLowerCase();
  const nameContext = /(?:^|[_-])(\d+)nt(?:[_.-]|$)/i.exec(base) ?? /(?:^|[_-])(\d+)k(?:[_.-]|$)/i.exec(base);
  let context: number | undefined;
  if (folderContext) context = Number(folderContext[1]);
  else if (nameContext) context = Number(nameContext[1]) * (/k$/i.test(nameContext[0].replace(/[_.-]$/, '')) ? 1000 : 1);
  const seed = /rs(\d+)/i.exec(base);
  return { setName, context, memberId: seed ? `rs${seed[1]}` : base };
}
