import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OutputError } from '../errors.js';

/** A temp name beside `path` (same folder, so the rename stays on one file system). */
export function tempPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.metaspliceai-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes `data` to `path` all at once or not at all (temp file, then rename), so a killed run
 * never leaves a half-written chunk that a rerun would take as finished.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await moveIntoPlace(path, async (temp) => fs.writeFile(temp, data));
}

/** Runs `write` on a temp path beside `path`, then renames it onto `path`; the temp goes on failure. */
export async function moveIntoPlace(path: string, write: (temp: string) => Promise<unknown>): Promise<void> {
  const temp = tempPathBeside(path);
  try {
    await write(temp);
    await fs.rename(temp, path);
  } catch (cause) {
    await fs.rm(temp, { force: true }).catch(() => {});
    if (OutputError.isInstance(cause)) throw cause;
    throw new OutputError(path, `cannot write it (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, { cause, hint: 'check the output folder exists, is writable and has space' });
  }
}
