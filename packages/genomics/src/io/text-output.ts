import { once } from 'node:events';
import { createReadStream, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';

/**
 * Text written to a stream in blocks of ~64 KiB, waiting for `drain` when the stream is full, so a
 * writer producing millions of short lines neither makes millions of writes nor outruns a slow
 * reader (memory stays bounded by the block). It never ends the stream: stdout stays open.
 */
export class TextOutput {
  private parts: string[] = [];
  private size = 0;

  constructor(
    readonly stream: Writable,
    private readonly blockSize = 1 << 16,
  ) {}

  /** Queues text; resolves once the block is handed to the stream when one filled up. */
  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= this.blockSize) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    const stream = this.stream;
    if (stream.destroyed) throw stream.errored ?? new Error('the output stream is closed');
    if (!stream.write(text)) {
      // 'close' too: a stream destroyed while full never drains. 'error' rejects `once` itself.
      const done = new AbortController();
      try {
        await Promise.race([once(stream, 'drain', { signal: done.signal }), once(stream, 'close', { signal: done.signal })]);
      } finally {
        done.abort(); // detach the listener that did not fire
      }
      if (stream.destroyed) throw stream.errored ?? new Error('the output stream is closed');
    }
  }
}

/**
 * Text kept aside to be written later (the donor track after the acceptor track, a JSON line's
 * later arrays): in memory up to `limit` characters, then in a temp file, so holding a whole
 * chromosome's worth costs disk, not memory.
 */
export class TextSpool {
  private parts: string[] = [];
  private size = 0;
  private file?: { dir: string; path: string; handle: fs.FileHandle; bytes: number };

  constructor(
    private readonly limit = 1 << 20,
    private readonly tmpDir = tmpdir(),
  ) {}

  get empty(): boolean {
    return this.size === 0 && (this.file?.bytes ?? 0) === 0;
  }

  async write(text: string): Promise<void> {
    this.parts.push(text);
    this.size += text.length;
    if (this.size >= this.limit) await this.spill();
  }

  private async spill(): Promise<void> {
    if (!this.file) {
      const dir = await fs.mkdtemp(join(this.tmpDir, 'metaspliceai-spool-'));
      const path = join(dir, 'spool.txt');
      this.file = { dir, path, handle: await fs.open(path, 'w+'), bytes: 0 };
    }
    const data = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.size = 0;
    await this.file.handle.write(data, 0, data.length, this.file.bytes);
    this.file.bytes += data.length;
  }

  /** Writes everything spooled, in order, to `out`, and empties the spool for reuse. */
  async drainTo(out: TextOutput): Promise<void> {
    if (this.file && this.file.bytes > 0) {
      const stream = createReadStream(this.file.path, { encoding: 'utf8', start: 0, end: this.file.bytes - 1, highWaterMark: 1 << 16 });
      for await (const chunk of stream) await out.write(chunk as string);
      await this.file.handle.truncate(0);
      this.file.bytes = 0;
    }
    for (const part of this.parts) await out.write(part);
    this.parts = [];
    this.size = 0;
  }

  /** Removes the temp file, if one was made. */
  async dispose(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    this.parts = [];
    this.size = 0;
    if (!file) return;
    await file.handle.close().catch(() => {});
    await fs.rm(file.dir, { recursive: true, force: true });
  }
}
