import { promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface WalkedFile {
  path: string;
  /** Relative to the walk root, with `/` separators, through symlinks as named. */
  relativePath: string;
}

export interface WalkProblem {
  path: string;
  kind: 'unreadable' | 'symlink-loop' | 'broken-symlink';
  message: string;
}

/**
 * The hidden folder where `models pull` stages a set until every file of it is verified; its
 * files are never members of a set, so discovery does not walk it.
 */
export const PULL_STAGING_DIR = '.metaspliceai-pull';

/** Folders that never hold models (or hold them only half-pulled) and are expensive to walk. */
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.turbo', '.cache', PULL_STAGING_DIR]);

/**
 * Lists every regular file under `root` (names only, no stat), following symlinks; relative paths
 * are taken from `namesFrom` (default `root`), a folder at or above `root`. A symlinked folder that leads back to
 * a folder being walked is reported as a loop instead of being walked forever; unreadable entries
 * are reported, never thrown.
 */
export async function walkFiles(root: string, namesFrom: string = root): Promise<{ files: WalkedFile[]; problems: WalkProblem[] }> {
  const files: WalkedFile[] = [];
  const problems: WalkProblem[] = [];
  const toRel = (p: string) => relative(namesFrom, p).split(sep).join('/');

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
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) subdirs.push(full);
      } else if (entry.isFile()) {
        // No stat here: most files are unrelated, and only matched ones need a size.
        files.push({ path: full, relativePath: toRel(full) });
      } else if (entry.isSymbolicLink()) {
        try {
          const stat = await fs.stat(full);
          if (stat.isDirectory()) subdirs.push(full);
          else if (stat.isFile()) files.push({ path: full, relativePath: toRel(full) });
        } catch (error) {
          problems.push({ path: full, kind: 'broken-symlink', message: `broken symlink: ${describe(error)}` });
        }
      }
    }
    for (const sub of subdirs.sort()) await visit(sub, inner);
  }

  await visit(root, new Set());
  files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
  return { files, problems };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
