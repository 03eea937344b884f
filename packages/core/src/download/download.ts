import { createHash, type Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions } from '../config/options.js';
import { DownloadError } from '../errors.js';
import { syncFolder } from '../io/atomic-file.js';
import { downloadOptionsSchema } from './options.js';

/** Where the bytes come from: an http(s) URL, a `file:` URL, or a local path. */
export type DownloadSource = string;

/** Progress of one file, in absolute numbers so a caller never has to undo a count on a restart. */
export interface DownloadProgress {
  /** The final path being written. */
  dest: string;
  /** Bytes of the file now in the `.part` (resumed bytes included). */
  received: number;
  /** The expected size, when known. */
  total?: number;
}

export interface DownloadOptions {
  source: DownloadSource;
  /** The final path; bytes go to `<dest>.part` until verified. */
  dest: string;
  /** The expected sha256 (64 hex digits); anything else is refused. */
  sha256: string;
  /** The expected size in bytes; a longer body is cut off early, a shorter one refused. */
  size?: number;
  onProgress?: (progress: DownloadProgress) => void;
  /** Retries after a dropped connection or a 5xx answer, each resuming from the `.part` (default 3). */
  retries?: number;
  /** Wait before a retry, times the attempt number (default 500 ms). */
  retryDelayMs?: number;
  /** Give up on a connection that sends nothing for this long (default 60 s). */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface DownloadResult {
  dest: string;
  size: number;
  sha256: string;
  /** Bytes of a `.part` left by an earlier run that were kept (0 when there was none or it was discarded). */
  resumedFrom: number;
  /** How many times the transfer was resumed within this call after a dropped connection. */
  retries: number;
}

/** The name of the partial file a download writes before the atomic rename. */
export function partPath(dest: string): string {
  return `${dest}.part`;
}

/** A failure worth another try from where the `.part` ends (a dropped connection, a 5xx answer). */
class TransientError extends Error {}

/**
 * Downloads `source` to `dest` the way a model file must arrive: into `<dest>.part`, resumed with an
 * HTTP Range request (or a read offset for a local mirror) when a `.part` is already there, hashed
 * while it streams, checked against the expected size and sha256, flushed to disk, then renamed onto
 * `dest` in one step. A reader therefore sees either no file or the verified one, never a partial or
 * corrupt file under the final name. A checksum mismatch deletes the `.part` and throws a
 * DownloadError naming the file and both checksums; a transfer that keeps failing keeps the `.part`
 * so the next run resumes it.
 */
export async function downloadFile(options: DownloadOptions): Promise<DownloadResult> {
  parseOptions(downloadOptionsSchema, options, { owner: 'downloadFile' });
  const expected = options.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(expected)) throw new DownloadError(`${options.dest}: the expected sha256 "${options.sha256}" is not 64 hex digits`);
  const part = partPath(options.dest);
  await fs.mkdir(dirname(options.dest), { recursive: true });
  const retries = options.retries ?? 3;
  let attempt = 0;
  let freshStart = false;
  // Bytes of a `.part` found at the start that end up in the file; any restart from zero drops them.
  let resumedFrom: number | undefined;
  const restarted = () => {
    resumedFrom = 0;
  };

  for (;;) {
    let offset = freshStart ? 0 : await fileSize(part);
    if (options.size !== undefined && offset > options.size) offset = 0; // longer than the file: useless
    if (offset === 0) await fs.rm(part, { force: true });
    if (resumedFrom === undefined) resumedFrom = offset;
    else if (offset === 0) restarted();
    try {
      const state = await transfer(options, part, offset, restarted);
      const actual = state.hash.digest('hex');
      if (options.size !== undefined && state.size !== options.size) {
        // The body ended cleanly (a dropped connection throws instead): the source's file is shorter.
        await fs.rm(part, { force: true });
        throw new DownloadError(
          `${options.dest}: ${describeSource(options.source)} sent ${state.size} bytes, the published file has ${options.size}; nothing was kept`,
          {
            hint: 'the file at the source is not the published one; use another mirror with --from',
          },
        );
      }
      if (actual !== expected) {
        await fs.rm(part, { force: true });
        // Bytes kept from an earlier attempt may be the bad ones: try once more from scratch.
        if (offset > 0 && !freshStart) {
          freshStart = true;
          continue;
        }
        throw new DownloadError(`${options.dest}: sha256 mismatch, expected ${expected}, got ${actual} (from ${describeSource(options.source)})`, {
          hint: 'the source or a proxy served different bytes; nothing was kept. Try again, or use another mirror with --from',
        });
      }
      await fs.rename(part, options.dest);
      await syncFolder(dirname(options.dest));
      return { dest: options.dest, size: state.size, sha256: actual, resumedFrom: resumedFrom ?? 0, retries: attempt };
    } catch (error) {
      if (error instanceof DownloadError) throw error;
      if (options.signal?.aborted) {
        throw new DownloadError(`${options.dest}: download aborted; the partial file ${part} is kept for a later resume`, { cause: error });
      }
      const reason = error instanceof Error ? messageOf(error) : String(error);
      if (!(error instanceof TransientError) && !isNetworkError(error)) {
        throw new DownloadError(`${options.dest}: cannot download from ${describeSource(options.source)}: ${reason}`, { cause: error });
      }
      if (attempt >= retries) {
        const kept = await fileSize(part);
        throw new DownloadError(`${options.dest}: download from ${describeSource(options.source)} failed after ${attempt + 1} attempt(s): ${reason}`, {
          cause: error,
          hint:
            kept > 0
              ? `${kept} bytes are kept in ${part}; run the same command again to resume`
              : 'check the connection or the mirror and run the command again',
        });
      }
      attempt++;
      freshStart = false;
      await delay((options.retryDelayMs ?? 500) * attempt, options.signal);
    }
  }
}

interface TransferState {
  hash: Hash;
  size: number;
}

/** Appends the bytes from `offset` on to `part` and returns the hash and size of the whole file. */
async function transfer(options: DownloadOptions, part: string, offset: number, restarted: () => void): Promise<TransferState> {
  let hash = createHash('sha256');
  let size = offset;
  if (offset > 0) {
    for await (const chunk of createReadStream(part, { end: offset - 1 })) hash.update(chunk as Buffer);
  }
  if (options.size !== undefined && offset === options.size) return { hash, size }; // already complete
  const body = await openSource(options, offset);
  if (body.start !== offset) {
    // The source ignored the range (HTTP 200 with the whole file): start over.
    hash = createHash('sha256');
    size = 0;
    restarted();
  }
  const handle = await fs.open(part, size > 0 ? 'a' : 'w');
  try {
    for await (const chunk of body.chunks) {
      const bytes = chunk as Uint8Array;
      if (options.size !== undefined && size + bytes.length > options.size) {
        await handle.close().catch(() => undefined);
        await fs.rm(part, { force: true });
        throw new DownloadError(`${options.dest}: ${describeSource(options.source)} sends more than the expected ${options.size} bytes; nothing was kept`, {
          hint: 'the file at the source is not the published one; use another mirror with --from',
        });
      }
      await handle.write(bytes);
      hash.update(bytes);
      size += bytes.length;
      options.onProgress?.({ dest: options.dest, received: size, total: options.size });
    }
    await handle.sync();
  } finally {
    await handle.close().catch(() => undefined);
  }
  return { hash, size };
}

interface SourceBody {
  /** The byte offset the body starts at (0 when the source ignored a range request). */
  start: number;
  chunks: AsyncIterable<Uint8Array>;
}

/** Opens the source at `offset`: an HTTP GET with a Range header, or a read stream for a local file. */
async function openSource(options: DownloadOptions, offset: number): Promise<SourceBody> {
  const { source } = options;
  if (/^https?:\/\//i.test(source)) return openHttp(options, offset);
  const file = source.startsWith('file:') ? fileURLToPath(source) : resolve(source);
  try {
    await fs.access(file);
  } catch (cause) {
    throw new DownloadError(`${options.dest}: the mirror has no file ${file}`, {
      cause,
      hint: 'a mirror folder holds the files under the same paths as the models folder (e.g. openspliceai/openspliceai-mane/80nt/...)',
    });
  }
  return { start: offset, chunks: createReadStream(file, { start: offset }) };
}

async function openHttp(options: DownloadOptions, offset: number): Promise<SourceBody> {
  const controller = new AbortController();
  const abort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', abort, { once: true });
  const idle = options.idleTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new TransientError(`no data for ${idle / 1000} s`)), idle);
  };
  const disarm = () => {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', abort);
  };
  arm();
  let response: Response;
  try {
    response = await fetch(options.source, {
      headers: { 'user-agent': 'metaspliceai', ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) },
      redirect: 'follow',
      signal: controller.signal,
    });
  } catch (error) {
    disarm();
    throw controller.signal.reason instanceof TransientError ? controller.signal.reason : error;
  }
  let start = 0;
  if (response.status === 206) {
    const range = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
    start = range ? Number(range[1]) : -1;
    if (start !== offset) {
      // A range we did not ask for: drop it and ask again for the whole file.
      await response.body?.cancel().catch(() => undefined);
      disarm();
      return openHttp(options, 0);
    }
  } else if (response.status === 416 && offset > 0) {
    // The `.part` is at least as long as the file: start over.
    await response.body?.cancel().catch(() => undefined);
    disarm();
    return openHttp(options, 0);
  } else if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    disarm();
    const message = `HTTP ${response.status} ${response.statusText} from ${response.url || options.source}`;
    if (response.status >= 500 || response.status === 429) throw new TransientError(message);
    throw new DownloadError(`${options.dest}: ${message}`, {
      hint:
        response.status === 404
          ? 'the file is not at that address; check --from, or the adapter catalogue may be out of date'
          : 'check the address and the network',
    });
  }
  if (!response.body) {
    disarm();
    throw new TransientError(`empty response from ${options.source}`);
  }
  const body = response.body;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        yield chunk;
      }
    } catch (error) {
      throw controller.signal.reason instanceof TransientError ? controller.signal.reason : new TransientError(messageOf(error as Error));
    } finally {
      disarm();
    }
  }
  return { start, chunks: chunks() };
}

/** Errors of the connection itself (reset, refused, DNS, terminated body), worth a retry. */
function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code ?? (error.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|UND_ERR_\w+)$/.test(code)) return true;
  return error.name === 'TypeError' && /fetch failed|terminated/.test(error.message);
}

function messageOf(error: Error): string {
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

function describeSource(source: string): string {
  return /^https?:\/\//i.test(source) || source.startsWith('file:') || isAbsolute(source) ? source : resolve(source);
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
