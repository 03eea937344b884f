import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OutputError } from '@metaspliceai/core';

/** Small files (chunk records, metrics) go through core's atomic writer (fsync, rename, signal cleanup). */
export { isAtomicTempName, writeFileAtomic } from '@metaspliceai/core';

/** A temp name beside `path` in core's temp-name pattern (so `isAtomicTempName` knows it). */
export function tempPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.metaspliceai-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Runs `write` on a temp path beside `path`, then renames it onto `path`; the temp goes on
 * failure. For outputs written by path rather than through a stream (Parquet's file writer,
 * tables concatenated from parts), so a killed run never leaves a half-written table.
 */
export async function moveIntoPlace(path: string, write: (temp: string) => Promise<unknown>): Promise<void> {
  const temp = tempPathBeside(path);
  try {
    await write(temp);
    await fs.rename(temp, path);
  } catch (cause) {
    await fs.rm(temp, { force: true }).catch(() => {});
    if (OutputError.isInstance(cause)) throw cause;
    throw new OutputError(path, `cannot write it (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, {
      cause,
      hint: 'check the output folder exists, is writable and has space',
    });
  }
}
