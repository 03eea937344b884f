import { createReadStream, promises as fs } from 'node:fs';
import { BgzipIndexedFasta, IndexedFasta } from '@gmod/indexedfasta';
import { BlobFile } from 'generic-filehandle2';
import { InputError } from '../errors.js';

/** Random access to the sequences of a FASTA file (plain or bgzip), by 0-based half-open range. */
export interface FastaReader {
  readonly path: string;
  names(): Promise<string[]>;
  /** The record's length, or undefined when the file has no such record. */
  length(name: string): Promise<number | undefined>;
  /** Bases [start, end) of a record, as stored (case kept); clipped to the record. */
  fetch(name: string, start: number, end: number): Promise<string>;
  /**
   * The file's name for a contig, matching with or without a `chr` prefix (`10` finds `chr10`
   * and `chrM` finds `MT`), or undefined.
   */
  resolveName(name: string): Promise<string | undefined>;
}

/**
 * Opens a FASTA file for random access. Plain files use their `.fai` index, or one built in memory
 * by a single pass when there is none; bgzip files need `.fai` and `.gzi` (from `samtools faidx`).
 */
export async function openFasta(path: string): Promise<FastaReader> {
  const head = await readHead(path);
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  let fasta: IndexedFasta;
  if (gzip) {
    const bgzip = head.length >= 16 && (head[3] & 4) !== 0 && head[12] === 66 && head[13] === 67;
    if (!bgzip) {
      throw new InputError(`${path}: gzip-compressed but not bgzip, so it cannot be read by position`, {
        hint: `recompress it: gunzip -c ${path} | bgzip > ${path.replace(/\.gz$/, '')}.bgz.gz && samtools faidx that file`,
      });
    }
    const [fai, gzi] = [`${path}.fai`, `${path}.gzi`];
    for (const index of [fai, gzi]) {
      if (!(await exists(index))) throw new InputError(`${path}: bgzip FASTA without its index ${index}`, { hint: `create it with: samtools faidx ${path}` });
    }
    fasta = new BgzipIndexedFasta({ path, faiPath: fai, gziPath: gzi });
  } else if (await exists(`${path}.fai`)) {
    fasta = new IndexedFasta({ path, faiPath: `${path}.fai` });
  } else {
    const fai = await buildFaiIndex(path);
    fasta = new IndexedFasta({ path, fai: new BlobFile(new Blob([fai])) });
  }
  let names: Promise<string[]> | undefined;
  let sizes: Promise<Record<string, number>> | undefined;
  const wrap = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (cause) {
      if (InputError.isInstance(cause)) throw cause;
      throw new InputError(`${path}: cannot ${what} (${(cause as Error).message})`, { cause, hint: 'check the file and its .fai index (samtools faidx rebuilds it)' });
    }
  };
  const reader: FastaReader = {
    path,
    names: () => (names ??= wrap('read the index', () => fasta.getSequenceNames())),
    async length(name) {
      sizes ??= wrap('read the index', () => fasta.getSequenceSizes());
      return (await sizes)[name];
    },
    async fetch(name, start, end) {
      const size = await reader.length(name);
      if (size === undefined) throw new InputError(`${path}: no record named ${name}`);
      const from = Math.max(0, start);
      const to = Math.min(size, end);
      if (to <= from) return '';
      return wrap(`read ${name}:${from}-${to}`, async () => (await fasta.getSequence(name, from, to)) ?? '');
    },
    async resolveName(name) {
      const all = await reader.names();
      return matchContigName(all, name);
    },
  };
  return reader;
}

/** Finds `name` among `names`, with or without a `chr` prefix (and `M`/`MT` for mitochondria). */
export function matchContigName(names: readonly string[], name: string): string | undefined {
  if (names.includes(name)) return name;
  const bare = name.replace(/^chr/i, '');
  const variants = [bare, `chr${bare}`, ...(bare === 'M' ? ['MT', 'chrMT'] : bare === 'MT' ? ['M', 'chrM'] : [])];
  return variants.find((v) => names.includes(v));
}

async function readHead(path: string): Promise<Buffer> {
  let handle;
  try {
    handle = await fs.open(path, 'r');
  } catch (cause) {
    throw new InputError(`${path}: cannot open the FASTA file (${(cause as NodeJS.ErrnoException).code ?? cause})`, { cause });
  }
  try {
    const buf = Buffer.alloc(18);
    const { bytesRead } = await handle.read(buf, 0, 18, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return fs.stat(path).then(() => true, () => false);
}

/**
 * Builds a .fai index in one streaming pass, so an unindexed FASTA gets random access without
 * holding its sequences in memory. Lines of a record must share one length (as samtools requires).
 */
export async function buildFaiIndex(path: string): Promise<string> {
  const rows: string[] = [];
  let name: string | undefined;
  let length = 0;
  let offset = 0;
  let lineBases = 0;
  let lineBytes = 0;
  let short = false; // a line shorter than the first was seen: only the last line may be short
  let lineStart = 0;
  let partial = '';
  const finish = () => {
    if (name !== undefined) rows.push(`${name}\t${length}\t${offset}\t${lineBases || length}\t${lineBytes || length + 1}`);
  };
  const onLine = (raw: string, start: number, bytes: number) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('>')) {
      finish();
      name = line.slice(1).trim().split(/\s+/)[0];
      if (!name) throw new InputError(`${path}: a FASTA header has no name at byte ${start}`);
      length = 0;
      lineBases = 0;
      lineBytes = 0;
      short = false;
      offset = start + bytes;
      return;
    }
    if (name === undefined) {
      if (line.trim() === '') return;
      throw new InputError(`${path}: sequence before the first '>' header`, { hint: 'a FASTA file starts with a >name line' });
    }
    if (line.length === 0) return;
    if (short) throw new InputError(`${path}: record ${name} has lines of different lengths`, { hint: `index it with samtools faidx ${path}, or rewrap it (seqkit seq -w 60)` });
    if (lineBases === 0) {
      lineBases = line.length;
      lineBytes = bytes;
    } else if (line.length !== lineBases) {
      if (line.length > lineBases) throw new InputError(`${path}: record ${name} has lines of different lengths`, { hint: `rewrap it (seqkit seq -w 60)` });
      short = true;
    }
    length += line.length;
  };
  for await (const chunk of createReadStream(path, { encoding: 'latin1' })) {
    const text = partial + (chunk as string);
    let from = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
      onLine(text.slice(from, nl), lineStart, nl - from + 1);
      lineStart += nl - from + 1;
      from = nl + 1;
    }
    partial = text.slice(from);
  }
  if (partial) onLine(partial, lineStart, partial.length + 1);
  finish();
  return `${rows.join('\n')}\n`;
}
