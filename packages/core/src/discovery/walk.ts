import { promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface WalkedFile {
  path: string;
  /** Relative to the walk root, with `/` separators, through symlinks as named. */
  relativePath: string;
  size: number;
}

export interface WalkProblem {
  path: string;
  kind: 'unreadable' | 'symlink-loop' | 'broken-symlink';
  message: string;
}

/** Folders that never hold models and are expensive to walk. */
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.turbo', '.cache']);

/**
 * Lists every regular file under `root`, following symlinks. A symlinked folder that leads back to
 * a folder being walked is reported as a loop instead of being walked forever; unreadable entries
 * are reported, never thrown.
 */
export async function walkFiles(root: string): Promise<{ files: WalkedFile[]; problems: WalkProblem[] }> {
  const files: WalkedFile[] = [];
  const problems: WalkProblem[] = [];
  const toRel = (p: string) => relative(root, p).split(sep).join('/');

  async function visit(dir: string, ancestors: Set<string>): Promise<void> {
    let real: string;
    try {
      real = await fs.realpath(dir);
    } catch (error) {
      problems.push({ path: dir, kind: 'unreadable', message: describe(error) });
      return;
    }
    if (ancestors.has(real)) {
      problems.push({ path: dir, kind: 'symlink-loop', message: `symlink loop: ${toRel(dir)} leads back to ${real}` });
      return;
    }
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      problems.push({ path: dir, kind: 'unreadable', message: describe(error) });
      return;
    }
    const inner = new Set(ancestors).add(real);
    const subdirs: string[] = [];
    const candidates: string[] = [];
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) subdirs.push(full);
      } else if (entry.isFile()) {
        candidates.push(full);
      } else if (entry.isSymbolicLink()) {
        try {
          const stat = await fs.stat(full);
          if (stat.isDirectory()) subdirs.push(full);
          else if (stat.isFile()) files.push({ path: full, relativePath: toRel(full), size: stat.size });
        } catch (error) {
          problems.push({ path: full, kind: 'broken-symlink', message: `broken symlink: ${describe(error)}` });
        }
      }
    }
    // Sizes of plain files come from one stat each, in parallel: the walk is I/O bound.
    const stats = await Promise.all(candidates.map((p) => fs.stat(p).catch((error: unknown) => error)));
    candidates.forEach((p, i) => {
      const stat = stats[i];
      if (stat instanceof Error) problems.push({ path: p, kind: 'unreadable', message: describe(stat) });
      else files.push({ path: p, relativePath: toRel(p), size: (stat as { size: number }).size });
    });
    for (const sub of subdirs.sort()) await visit(sub, inner);
  }

  await visit(root, new Set());
  files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
  return { files, problems };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
