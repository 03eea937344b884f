import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSequence, InputError } from '@metaspliceai/core';
import { duplicateRecordNames } from './fasta.js';
import { readPadded, type SequenceInput, type QueryStrand } from '../inference/sequence-input.js';

/** A FASTA record read from a stream, ready to predict. */
export interface FastaRecordInput extends SequenceInput {
  /** The header after the name (may be empty). */
  readonly description: string;
}

export interface ReadFastaRecordsOptions {
  strand?: QueryStrand;
  /**
   * Bases of one record kept in memory (default 64 Mi); a longer record spills to a temp file of
   * one byte per base, so a whole chromosome piped in does not have to fit in memory.
   */
  maxInMemory?: number;
  /** Where spilled records go (default the OS temp folder). */
  tmpDir?: string;
  /** Names the input in errors (default `stdin`). */
  source?: string;
  /** The name of a record that has no `>` header (plain sequence input); default `sequence`. */
  defaultName?: string;
}

/** Byte -> nucleotide code, with encodeSequence's rules (any case; all else N). */
const CODE_OF_BYTE = encodeSequence(String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i)));
const NL = 0x0a;
const GT = 0x3e;
const IGNORED = new Uint8Array(256);
for (const c of [0x0d, 0x20, 0x09, 0x0b, 0x0c]) IGNORED[c] = 1;

/**
 * Reads FASTA records from a stream (stdin) one at a time, in order, without reading ahead:
 * memory holds one record, and a record longer than `maxInMemory` bases spills to disk. Input
 * without a `>` header is one record (so a bare sequence can be piped in). Each record must be
 * disposed (inference does it after its last row) to remove a spilled file. A second record of a
 * name already read is an InputError naming both header lines (records are predicted as they are
 * read, so the run stops there, after the records before it).
 */
export async function* readFastaRecords(stream: AsyncIterable<Buffer | string>, options: ReadFastaRecordsOptions = {}): AsyncGenerator<FastaRecordInput> {
  const maxInMemory = options.maxInMemory ?? 64 * 1024 * 1024;
  const source = options.source ?? 'stdin';
  let header: number[] | undefined; // bytes of the header line being read
  let name: string | undefined;
  let description = '';
  let started = false; // a record (or headerless sequence) is open
  let atLineStart = true;
  let buffer = new Uint8Array(1 << 16);
  let used = 0;
  let spill: Spill | undefined;
  const done: FastaRecordInput[] = [];
  let count = 0;
  let line = 1; // 1-based line of the byte being read
  let headerLine = 0;
  const headerLines = new Map<string, number>(); // name -> line of its header, to refuse a second record of a name
  const named = (text: string) => {
    const space = text.search(/\s/);
    name = space < 0 ? text : text.slice(0, space);
    description = space < 0 ? '' : text.slice(space + 1).trim();
    if (!name)
      throw new InputError(`${source}:${headerLine}: FASTA record ${count + 1} has a header with no name`, { hint: 'a header line reads >name [description]' });
    const earlier = headerLines.get(name);
    if (earlier !== undefined) throw duplicateRecordNames(source, [[name, [earlier, headerLine]]]);
    headerLines.set(name, headerLine);
  };

  const finish = async () => {
    if (!started) return;
    started = false;
    const recordName = name ?? options.defaultName ?? 'sequence';
    const base = { name: recordName, description, strand: options.strand ?? '+' };
    if (spill) {
      await spill.append(buffer.subarray(0, used));
      const file = spill;
      spill = undefined;
      done.push({ ...base, length: file.length, read: (from, to) => file.read(from, to), dispose: () => file.dispose() });
    } else {
      const codes = buffer.slice(0, used);
      done.push({ ...base, length: codes.length, isolated: true, read: (from, to) => readPadded(codes, from, to) });
    }
    used = 0;
    count++;
  };

  try {
    for await (const chunk of stream) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i];
        if (header) {
          if (b === NL) {
            const text = Buffer.from(header).toString('utf8').trim();
            header = undefined;
            atLineStart = true;
            named(text);
            line++;
          } else header.push(b);
          continue;
        }
        if (b === NL) {
          atLineStart = true;
          line++;
          continue;
        }
        if (IGNORED[b]) continue;
        if (atLineStart && b === GT) {
          await finish();
          started = true;
          header = [];
          headerLine = line;
          continue;
        }
        atLineStart = false;
        started = true;
        if (used === buffer.length) {
          const grown = new Uint8Array(buffer.length * 2);
          grown.set(buffer);
          buffer = grown;
        }
        buffer[used++] = CODE_OF_BYTE[b];
      }
      if (header === undefined && used > maxInMemory) {
        spill ??= await Spill.create(options.tmpDir ?? tmpdir());
        await spill.append(buffer.subarray(0, used));
        used = 0;
        if (buffer.length > 1 << 20) buffer = new Uint8Array(1 << 20);
      }
      while (done.length) yield done.shift()!;
    }
    if (header) {
      // A last header without a newline: a record with no sequence.
      const text = Buffer.from(header).toString('utf8').trim();
      header = undefined;
      named(text);
    }
    await finish();
    while (done.length) yield done.shift()!;
  } finally {
    await spill?.dispose();
    for (const record of done) await record.dispose?.();
  }
}

/** One record's codes in a temp file, one byte per base, read back by position. */
class Spill {
  length = 0;
  private constructor(
    private readonly dir: string,
    private readonly handle: fs.FileHandle,
  ) {}

  static async create(parent: string): Promise<Spill> {
    const dir = await fs.mkdtemp(join(parent, 'metaspliceai-record-'));
    return new Spill(dir, await fs.open(join(dir, 'codes'), 'w+'));
  }

  async append(codes: Uint8Array): Promise<void> {
    if (codes.length === 0) return;
    await this.handle.write(codes, 0, codes.length, this.length);
    this.length += codes.length;
  }

  async read(from: number, to: number): Promise<Uint8Array> {
    const out = new Uint8Array(Math.max(0, to - from));
    const lo = Math.max(from, 0);
    const hi = Math.min(to, this.length);
    if (hi > lo) await this.handle.read(out, lo - from, hi - lo, lo);
    return out;
  }

  private disposed = false;
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.handle.close().catch(() => {});
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
