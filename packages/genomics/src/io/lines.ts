import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '@metaspliceai/core';
import { BGZF_EOF } from './bgzf-writer.js';

/** Bytes of a text input: a file path, or a stream such as stdin. */
export type TextInput = string | NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

/**
 * The bytes of an input, gunzipped when they start with the gzip magic (plain gzip and bgzip
 * alike: bgzip is a series of gzip members, which Node's gunzip reads through). `onRead` counts
 * the raw bytes consumed, for progress bars. A bgzip input that does not end with bgzip's
 * end-of-file block reads through to its last whole block, then `onWarning` is told that it may be
 * truncated (a file cut at a block boundary is otherwise indistinguishable from a whole one).
 */
export async function* inputBytes(
  input: TextInput,
  name: string,
  onRead?: (bytes: number) => void,
  onWarning?: (message: string) => void,
): AsyncGenerator<Buffer> {
  const source: AsyncIterable<Uint8Array> = typeof input === 'string' ? createReadStream(input) : (input as AsyncIterable<Uint8Array>);
  const counted = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      onRead?.(buf.length);
      yield buf;
    }
  };
  let tail: Buffer = Buffer.alloc(0); // the last raw bytes, to look for bgzip's end-of-file block
  const raw = (async function* () {
    for await (const buf of counted()) {
      tail = buf.length >= BGZF_EOF.length ? buf.subarray(buf.length - BGZF_EOF.length) : Buffer.concat([tail, buf]).subarray(-BGZF_EOF.length);
      yield buf;
    }
  })();
  let head = Buffer.alloc(0);
  try {
    while (head.length < 16) {
      const next = await raw.next();
      if (next.done) break;
      head = Buffer.concat([head, next.value]);
    }
  } catch (cause) {
    throw new InputError(`${name}: cannot read (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, { cause });
  }
  const replay = async function* (): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    yield* raw;
  };
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = Readable.from(replay()).pipe(createGunzip());
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (cause) {
      throw new InputError(`${name}: corrupt gzip data (${(cause as Error).message})`, { cause, hint: 'check the file: gzip -t or bgzip -t' });
    }
    const bgzip = head.length >= 14 && (head[3] & 4) !== 0 && head[12] === 0x42 && head[13] === 0x43;
    if (bgzip && !tail.equals(BGZF_EOF)) onWarning?.(`${name}: the bgzip file has no end-of-file block, so it may be truncated (check it with bgzip -t)`);
    return;
  }
  try {
    yield* replay();
  } catch (cause) {
    throw new InputError(`${name}: cannot read (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message})`, { cause });
  }
}

/** One line of text, as read (latin1, so every byte round-trips), without its `\n`/`\r\n`. */
export interface TextLine {
  text: string;
  /** 1-based line number. */
  number: number;
  /** The line ending that followed it: `\n`, `\r\n`, or `` for a last line without one. */
  eol: string;
}

/**
 * Splits an input into lines, keeping each line's ending so a writer can give the bytes back
 * unchanged. Decoding is latin1: one character per byte, lossless for any encoding.
 */
export async function* readTextLines(
  input: TextInput,
  name: string,
  onRead?: (bytes: number) => void,
  onWarning?: (message: string) => void,
): AsyncGenerator<TextLine> {
  let partial = '';
  let number = 0;
  for await (const chunk of inputBytes(input, name, onRead, onWarning)) {
    const text = partial + chunk.toString('latin1');
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      const cr = nl > from && text.charCodeAt(nl - 1) === 13;
      yield { text: text.slice(from, cr ? nl - 1 : nl), number: ++number, eol: cr ? '\r\n' : '\n' };
      from = nl + 1;
    }
    partial = text.slice(from);
  }
  if (partial) {
    const cr = partial.endsWith('\r');
    yield { text: cr ? partial.slice(0, -1) : partial, number: ++number, eol: cr ? '\r' : '' };
  }
}
