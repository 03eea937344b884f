import { randomBytes } from 'node:crypto';
import { promises as fs, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { OutputError } from '../errors.js';
import { toOutputError } from './write-errors.js';

/**
 * Temp files being written right now, process-wide, so a signal handler or an exit hook can remove
 * them: an interrupted run leaves neither a partial output nor a stray temp file behind.
 */
const live = new Set<string>();

/** The temp files of outputs not yet committed or aborted (paths), for cleanup on exit. */
export function liveTempFiles(): string[] {
  return [...live];
}

/**
 * Removes every live temp file synchronously: safe to call from a signal handler or
 * `process.on('exit')`, where no await runs. Returns the paths it removed.
 */
export function removeLiveTempFilesSync(): string[] {
  const removed: string[] = [];
  for (const path of live) {
    try {
      unlinkSync(path);
      removed.push(path);
    } catch {
      // already gone, or its folder went away: nothing left to clean
    }
    live.delete(path);
  }
  return removed;
}

/** Whether `name` is one of our temp names (`.<name>.metaspliceai-<pid>-<hex>.tmp`). */
export function isAtomicTempName(name: string): boolean {
  return /^\..+\.metaspliceai-\d+-[0-9a-f]+\.tmp$/.test(name);
}

/** The temp path beside `path`: same folder, so the final rename stays on one file system. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.metaspliceai-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** A file written through a stream that appears under `path` only on commit(). */
export interface AtomicFile {
  /** The final name (a symlink's target when `path` named an existing link). */
  readonly path: string;
  readonly tempPath: string;
  /** Write here; errors come out as `OutputError` naming `path`. Ended by commit() when still open. */
  readonly stream: Writable;
  /** Ends the stream, fsyncs, renames the temp file onto `path`. Aborts and throws on any failure. */
  commit(): Promise<void>;
  /** Drops what was written: removes the temp file; `path` stays as it was. Safe to call twice. */
  abort(): Promise<void>;
}

/**
 * Opens a temp file beside `path` for streaming output. The folder must exist (a missing one is an
 * `OutputError` with a `mkdir -p` hint): callers that manage their own folders create them first.
 * An existing `path` keeps its contents until commit() and its permission bits after it.
 */
export async function openAtomicFile(path: string): Promise<AtomicFile> {
  // Write through a symlink to its target, as a plain write would, rather than replacing the link.
  const target = await fs.realpath(path).catch(() => path);
  const tempPath = tempPathFor(target);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(tempPath, 'wx', 0o666);
  } catch (error) {
    throw toOutputError(path, (error as NodeJS.ErrnoException).code === 'ENOENT' ? await missingFolderError(path, error) : error);
  }
  live.add(tempPath);
  const existingMode = await fs.stat(target).then(
    (s) => (s.isFile() ? s.mode & 0o7777 : undefined),
    () => undefined,
  );

  let state: 'open' | 'committed' | 'aborted' = 'open';
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };

  const stream = new Writable({
    highWaterMark: 1 << 16,
    write(chunk: Buffer, _encoding, done) {
      writeAll(handle, [chunk]).then(
        () => done(),
        (error: unknown) => done(toOutputError(path, error)),
      );
    },
    writev(chunks, done) {
      writeAll(
        handle,
        chunks.map((c) => c.chunk as Buffer),
      ).then(
        () => done(),
        (error: unknown) => done(toOutputError(path, error)),
      );
    },
  });
  // Errors also reach whoever awaits commit(); without this listener an unhandled 'error' would crash.
  stream.on('error', () => {});

  const abort = async (): Promise<void> => {
    if (state !== 'open') return;
    state = 'aborted';
    if (!stream.destroyed) stream.destroy();
    await close().catch(() => {});
    await fs.rm(tempPath, { force: true }).catch(() => {});
    live.delete(tempPath);
  };

  const commit = async (): Promise<void> => {
    if (state !== 'open') throw toOutputError(path, new Error(`this output was already ${state}`));
    try {
      await finished(stream);
      if (existingMode !== undefined) await handle.chmod(existingMode);
      await handle.sync();
      await close();
      await fs.rename(tempPath, target);
    } catch (error) {
      await abort();
      throw toOutputError(path, error);
    }
    state = 'committed';
    live.delete(tempPath);
    await syncFolder(dirname(target));
  };

  return { path: target, tempPath, stream, commit, abort };
}

/** Writes `data` to a temp file beside `path`, fsyncs, renames into place; never a partial `path`. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const file = await openAtomicFile(path);
  try {
    file.stream.end(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  } catch (error) {
    await file.abort();
    throw toOutputError(path, error);
  }
  await file.commit();
}

/** Writes every chunk in full (a short write continues where it stopped). */
async function writeAll(handle: fs.FileHandle, chunks: Buffer[]): Promise<void> {
  for (const chunk of chunks) {
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
      offset += bytesWritten;
    }
  }
}

/** Ends `stream` if still open and waits until everything written reached the file, or rejects. */
function finished(stream: Writable): Promise<void> {
  if (stream.errored) return Promise.reject(stream.errored);
  if (stream.writableFinished) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      stream.off('finish', onFinish);
      reject(error);
    };
    const onFinish = () => {
      stream.off('error', onError);
      resolve();
    };
    stream.once('error', onError);
    stream.once('finish', onFinish);
    if (!stream.writableEnded) stream.end();
    else if (stream.destroyed) onError(new Error('the output stream was closed before it finished'));
  });
}

/**
 * Makes a rename into `folder` durable (fsync of the folder). Best effort: Windows and some file
 * systems cannot fsync a folder, and the rename itself is atomic without it.
 */
export async function syncFolder(folder: string): Promise<void> {
  const dir = await fs.open(folder, 'r').catch(() => undefined);
  if (!dir) return;
  await dir.sync().catch(() => {});
  await dir.close().catch(() => {});
}

/** ENOENT on open: name the folder that is missing, which is what the user has to create. */
async function missingFolderError(path: string, error: unknown): Promise<unknown> {
  const folder = dirname(path);
  const exists = await fs.stat(folder).then(
    () => true,
    () => false,
  );
  if (exists) {
    // The folder is there but refuses new files (/proc, some FUSE mounts): say that, not "missing".
    return new OutputError(path, `cannot write: the folder ${folder} does not allow new files (ENOENT)`, {
      hint: 'choose a folder on an ordinary writable file system',
      cause: error,
    });
  }
  return new OutputError(path, `cannot write: the folder ${folder} does not exist`, {
    hint: `create it first (mkdir -p ${folder}) or choose an existing folder`,
    cause: error,
  });
}
