import { promises as fsp } from 'node:fs';
import { vi } from 'vitest';

/**
 * Records every path fs.promises stats, reads or opens from now on (until vi.restoreAllMocks()),
 * to prove a reader never touches a file outside the folder it was given.
 */
export function recordFsAccess(): string[] {
  const touched: string[] = [];
  for (const name of ['stat', 'lstat', 'readFile', 'open', 'readdir', 'realpath', 'access'] as const) {
    const original = fsp[name].bind(fsp) as (...args: unknown[]) => unknown;
    vi.spyOn(fsp, name).mockImplementation(((path: unknown, ...rest: unknown[]) => {
      touched.push(String(path));
      return original(path, ...rest);
    }) as never);
  }
  return touched;
}
