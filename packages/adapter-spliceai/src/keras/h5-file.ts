import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { File as H5File } from 'h5wasm/node';
import { MetaSpliceAIError, ModelFileError } from '@metaspliceai/core';

/** The part of h5wasm this adapter uses; loaded on first use so importing the adapter stays cheap. */
type H5Wasm = typeof import('h5wasm/node');

let h5wasmPromise: Promise<H5Wasm> | undefined;
/** How many WebAssembly instances of HDF5 were retired after an abort (see {@link retire}). */
let retired = 0;

/**
 * Loads h5wasm once and waits for its WebAssembly module. After an instance aborted, the next call
 * loads a fresh copy of the module (a new URL is a new module record, hence a new WebAssembly
 * instance with its own memory and HDF5 state).
 */
async function loadH5wasm(): Promise<H5Wasm> {
  h5wasmPromise ??= (async () => {
    const module: H5Wasm =
      retired === 0 ? await import('h5wasm/node') : await import(/* @vite-ignore */ `${import.meta.resolve('h5wasm/node')}?instance=${retired}`);
    await module.ready;
    return module;
  })();
  return h5wasmPromise;
}

/** The emscripten file system streams of an instance, indexed by descriptor (NODERAWFS: real files). */
type Streams = ({ path?: string } | null | undefined)[];
const streamsOf = (h5wasm: H5Wasm): Streams => (h5wasm.FS as unknown as { streams?: Streams } | null)?.streams ?? [];

/**
 * Closes the descriptors a failed read left open. h5wasm's throwing error handler prints HDF5's
 * error stack into a `tmpfile()` and throws before closing it, so each refused file would leak one
 * real file descriptor; after an abort, the file HDF5 was reading is left open too (`all`).
 */
function closeLeftovers(h5wasm: H5Wasm, before: ReadonlySet<unknown>, all: boolean): void {
  const fs = h5wasm.FS as unknown as { close(stream: unknown): void } | null;
  for (const stream of streamsOf(h5wasm)) {
    if (!stream || before.has(stream) || !(all || /^\/tmp\/tmpfile_/.test(stream.path ?? ''))) continue;
    try {
      fs?.close(stream);
    } catch {
      // Already closed, or the instance is past caring: nothing more to free.
    }
  }
}

/**
 * Stops using an instance that aborted: its HDF5 library stopped mid-call (its state is not to be
 * trusted), so the next file is read by a fresh instance.
 */
function retire(h5wasm: H5Wasm, before: ReadonlySet<unknown>): void {
  closeLeftovers(h5wasm, before, true);
  retired++;
  h5wasmPromise = undefined;
}

/** An `abort()` inside the WebAssembly module (HDF5 or its allocator gave up on the input). */
function isWasmAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'RuntimeError' || /^Aborted\(/.test(error.message));
}

/**
 * Opens an HDF5 file read-only, runs `read` on it and always closes it.
 *
 * Why the care: h5wasm's Node build reads the real file system, and by default the HDF5 C library
 * prints its error stack to stderr and hands back invalid ids that fail later with unrelated
 * messages. Here the path is checked with Node first (so a missing or unreadable file gets a plain
 * message), HDF5 errors are made to throw while `read` runs, and every failure becomes a
 * {@link ModelFileError} that names the file. `read` is synchronous, so no other caller can
 * interleave with the error-handler switch.
 */
export async function withH5File<T>(file: string, read: (h5: H5File) => T): Promise<T> {
  const absolute = path.resolve(file);
  await checkReadable(absolute);
  const h5wasm = await loadH5wasm();
  const module = await h5wasm.ready;
  const before = new Set<unknown>(streamsOf(h5wasm));
  module.activate_throwing_error_handler();
  let h5: H5File | undefined;
  let failed = false;
  let aborted = false;
  try {
    h5 = new h5wasm.File(absolute, 'r');
    if (h5.file_id < 0n) throw new Error('HDF5 could not open the file');
    return read(h5);
  } catch (error) {
    failed = true;
    if (MetaSpliceAIError.isInstance(error)) throw error;
    aborted = isWasmAbort(error);
    const message = aborted ? 'is corrupt: HDF5 aborted while reading it (a fresh HDF5 instance reads the next file)' : describeHdf5Failure(error, absolute);
    throw new ModelFileError(absolute, message, { cause: error });
  } finally {
    try {
      if (!aborted && h5 !== undefined && h5.file_id >= 0n) h5.close();
    } catch {
      // Closing a file HDF5 already gave up on can fail too; the first error is the useful one.
    } finally {
      if (aborted) retire(h5wasm, before);
      else {
        module.deactivate_throwing_error_handler();
        if (failed) closeLeftovers(h5wasm, before, false);
      }
    }
  }
}

/** Gives a missing, unreadable or empty path its own message before HDF5 sees it. */
async function checkReadable(file: string): Promise<void> {
  let size: number;
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw new ModelFileError(file, 'is a directory, not a Keras .h5 model file');
    size = info.size;
  } catch (error) {
    if (MetaSpliceAIError.isInstance(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${String(error)})`;
    throw new ModelFileError(file, what, { cause: error });
  }
  if (size === 0) throw new ModelFileError(file, 'is empty (0 bytes); an interrupted download? fetch it again');
}

/** Turns HDF5's multi-line error stack into one sentence a user can act on. */
function describeHdf5Failure(error: unknown, file: string): string {
  const text = error instanceof Error ? error.message : String(error);
  // The innermost frame ("#007: ... in H5FD_open(): <reason>") carries the actual reason.
  const reasons = text
    .split('\n')
    .filter((line) => /#\d+:/.test(line))
    .map((line) => line.replace(/^.*?\(\): /, '').trim());
  const reason = reasons.at(-1) ?? text.split('\n')[0] ?? 'unknown error';
  if (/signature not found/i.test(reason)) {
    return 'is not an HDF5 file (no HDF5 signature); SpliceAI models are Keras 2 .h5 files';
  }
  const truncated = /truncated file: eof = (\d+).*stored_eof = (\d+)/.exec(reason);
  if (truncated) {
    return `is truncated: it has ${truncated[1]} bytes but its header says ${truncated[2]}; an interrupted download? fetch it again`;
  }
  return `HDF5 could not read ${path.basename(file)}: ${reason}`;
}
