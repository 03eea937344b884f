import { createReadStream, promises as fs } from 'node:fs';
import { BgzipIndexedFasta } from '@gmod/indexedfasta';
import { InputError } from '@metaspliceai/core';

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

/** One row of a `.fai` index: where a record's bases lie in the file and how its lines are laid out. */
interface FaiRow {
  name: string;
  length: number;
  /** Byte offset of the record's first base. */
  offset: number;
  lineBases: number;
  lineBytes: number;
}

/**
 * Opens a FASTA file for random access. Plain files use their `.fai` index, or one built in memory
 * by a single pass when there is none; bgzip files need `.fai` and `.gzi` (from `samtools faidx`).
 * An index is checked against the file, not trusted: the file must be as long as the index says,
 * each record's header must name it, and every line end a read crosses must be a newline. A stale
 * or foreign index is refused (`InputError`, "rebuild it with samtools faidx") rather than rebuilt
 * in memory, so the file on disk that other tools use gets fixed too. Duplicate record names are
 * refused, naming them (a second record of one name would otherwise be unreachable).
 */
export async function openFasta(path: string): Promise<FastaReader> {
  const head = await readHead(path);
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  let rows: FaiRow[];
  let fetchRaw: (row: FaiRow, from: number, to: number) => Promise<string>;
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
    rows = parseFaiIndex(await readIndex(fai), fai, path);
    const fasta = new BgzipIndexedFasta({ path, faiPath: fai, gziPath: gzi });
    fetchRaw = async (row, from, to) => {
      const bases = (await fasta.getSequence(row.name, from, to)) ?? '';
      // The library strips newlines wherever they are: a wrong layout shows as a wrong length or header text.
      if (bases.length !== to - from || /[>\s]/.test(bases))
        throw mismatch(fai, path, `${row.name}:${from}-${to} reads as ${bases.length} bases where ${to - from} were asked for`);
      return bases;
    };
  } else {
    const fai = `${path}.fai`;
    const indexed = await exists(fai);
    rows = indexed ? parseFaiIndex(await readIndex(fai), fai, path) : parseFaiIndex(await buildFaiIndex(path), `${path} (index built in memory)`, path);
    const plain = new PlainFastaFile(path, indexed ? fai : undefined);
    await plain.checkSize(rows);
    fetchRaw = (row, from, to) => plain.read(row, from, to);
  }
  const byName = new Map(rows.map((r) => [r.name, r]));
  const names = rows.map((r) => r.name);
  const reader: FastaReader = {
    path,
    names: async () => names,
    async length(name) {
      return byName.get(name)?.length;
    },
    async fetch(name, start, end) {
      const row = byName.get(name);
      if (row === undefined) throw new InputError(`${path}: no record named ${name}`);
      const from = Math.max(0, start);
      const to = Math.min(row.length, end);
      if (to <= from) return '';
      try {
        return await fetchRaw(row, from, to);
      } catch (cause) {
        if (InputError.isInstance(cause)) throw cause;
        throw new InputError(`${path}: cannot read ${name}:${from}-${to} (${(cause as Error).message})`, {
          cause,
          hint: `check the file and its .fai index (samtools faidx ${path} rebuilds it)`,
        });
      }
    },
    async resolveName(name) {
      return byName.has(name) ? name : matchContigName(names, name);
    },
  };
  return reader;
}

async function readIndex(fai: string): Promise<string> {
  return fs.readFile(fai, 'latin1').catch((cause: NodeJS.ErrnoException) => {
    throw new InputError(`${fai}: cannot read the FASTA index (${cause.code ?? cause.message})`, { cause });
  });
}

function mismatch(fai: string, path: string, detail: string): InputError {
  return new InputError(`the index ${fai} does not match ${path}: ${detail}`, { hint: `rebuild it with: samtools faidx ${path}` });
}

/**
 * Parses a `.fai` index, refusing malformed rows and duplicate names (samtools keeps only the
 * first record of a name; a reader by name cannot reach the second).
 */
function parseFaiIndex(text: string, fai: string, path: string): FaiRow[] {
  const rows: FaiRow[] = [];
  const seen = new Map<string, number[]>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const f = line.replace(/\r$/, '').split('\t');
    const [length, offset, lineBases, lineBytes] = f.slice(1, 5).map((v) => (/^\d+$/.test(v ?? '') ? Number(v) : NaN));
    const layoutOk = lineBases === 0 ? length === 0 : lineBytes - lineBases >= 1 && lineBytes - lineBases <= 2;
    if (f.length < 5 || !f[0] || [length, offset, lineBases, lineBytes].some((v) => !Number.isSafeInteger(v)) || !layoutOk) {
      throw new InputError(`${fai}:${i + 1}: not a .fai index row (name, length, offset, bases per line, bytes per line)`, {
        hint: `rebuild it with: samtools faidx ${path}`,
      });
    }
    rows.push({ name: f[0], length, offset, lineBases, lineBytes });
    const lines = seen.get(f[0]);
    if (lines) lines.push(i + 1);
    else seen.set(f[0], [i + 1]);
  });
  const duplicates = [...seen].filter(([, lines]) => lines.length > 1);
  if (duplicates.length) {
    const shown = duplicates
      .slice(0, 5)
      .map(([name, lines]) => `${name} (rows ${lines.join(', ')})`)
      .join('; ');
    throw new InputError(`${fai}: the index lists records of the same name: ${shown}${duplicates.length > 5 ? `; ${duplicates.length} names in all` : ''}`, {
      hint: `give each record of ${path} its own name, then rebuild the index: samtools faidx ${path}`,
    });
  }
  return rows;
}

/** Byte position just after the last base of a record (its offset for an empty one). */
function recordEnd(row: FaiRow): number {
  if (row.length === 0) return row.offset;
  const last = row.length - 1;
  return row.offset + Math.floor(last / row.lineBases) * row.lineBytes + (last % row.lineBases) + 1;
}

/**
 * A plain FASTA read by its index, checking the index as it goes: each record's header is checked
 * on first use, and every read verifies that its bytes hold bases where the index says bases are,
 * and a newline at each line end.
 */
class PlainFastaFile {
  private readonly checked = new Map<string, Promise<void>>();
  constructor(
    private readonly path: string,
    /** The `.fai` file, or undefined when the index was built in memory from this file. */
    private readonly fai: string | undefined,
  ) {}

  private fail(detail: string): InputError {
    if (this.fai) return mismatch(this.fai, this.path, detail);
    return new InputError(`${this.path}: the file changed while it was read (${detail})`, { hint: 'run again once nothing else writes the file' });
  }

  /** The file must reach the end of every record the index lists. */
  async checkSize(rows: FaiRow[]): Promise<void> {
    const { size } = await fs.stat(this.path);
    for (const row of rows) {
      const end = recordEnd(row);
      if (end > size) throw this.fail(`record ${row.name} would end at byte ${end}, but the file has ${size} bytes`);
    }
  }

  async read(row: FaiRow, from: number, to: number): Promise<string> {
    let check = this.checked.get(row.name);
    if (!check) this.checked.set(row.name, (check = this.checkRecord(row)));
    await check;
    const { lineBases, lineBytes } = row;
    const byteOf = (i: number) => row.offset + Math.floor(i / lineBases) * lineBytes + (i % lineBases);
    const first = byteOf(from);
    const last = byteOf(to - 1) + 1;
    const buf = await this.bytes(first, last - first);
    if (buf.length !== last - first) throw this.fail(`${row.name}:${from}-${to} lies past the end of the file`);
    const out = Buffer.allocUnsafe(to - from);
    let at = 0; // next byte of buf
    let n = 0; // bases copied
    while (n < to - from) {
      const column = (from + n) % lineBases;
      const take = Math.min(lineBases - column, to - from - n);
      const piece = buf.subarray(at, at + take);
      if (piece.indexOf(0x0a) !== -1 || piece.indexOf(0x0d) !== -1 || piece.indexOf(0x3e) !== -1) {
        throw this.fail(`${row.name}:${from}-${to}: a line end or header where the index puts bases (line length ${lineBases})`);
      }
      piece.copy(out, n);
      n += take;
      at += take;
      if (n < to - from) {
        // A line end: lineBytes - lineBases bytes, the last a newline.
        const eol = buf.subarray(at, at + lineBytes - lineBases);
        if (eol[eol.length - 1] !== 0x0a || (eol.length === 2 && eol[0] !== 0x0d)) {
          throw this.fail(`${row.name}:${from}-${to}: no newline after ${lineBases} bases, where the index puts a line end`);
        }
        at += eol.length;
      }
    }
    return out.toString('latin1');
  }

  /** The line before the record's first base is its `>name` header; the byte after its last base ends a line. */
  private async checkRecord(row: FaiRow): Promise<void> {
    const before = await this.bytes(Math.max(0, row.offset - 4096), Math.min(row.offset, 4096));
    const text = before.toString('latin1');
    if (!text.endsWith('\n')) throw this.fail(`record ${row.name} does not start after a line end (byte ${row.offset})`);
    const lineStart = text.lastIndexOf('\n', text.length - 2) + 1;
    const header = text.slice(lineStart, text.length - 1).replace(/\r$/, '');
    const known = lineStart > 0 || row.offset <= 4096; // the whole header line was read
    if (known && header.slice(1).split(/\s/)[0] !== row.name) {
      throw this.fail(`the header before record ${row.name} (byte ${row.offset}) reads "${header.slice(0, 60)}"`);
    }
    const end = recordEnd(row);
    const after = await this.bytes(end, 1);
    if (row.length > 0 && after.length === 1 && after[0] !== 0x0a && after[0] !== 0x0d) {
      throw this.fail(`record ${row.name} (${row.length} bases) does not end where the index says (byte ${end})`);
    }
  }

  private async bytes(position: number, length: number): Promise<Buffer> {
    const handle = await fs.open(this.path, 'r');
    try {
      const buf = Buffer.alloc(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await handle.read(buf, read, length - read, position + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      return buf.subarray(0, read);
    } finally {
      await handle.close();
    }
  }
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
  return fs.stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Builds a .fai index in one streaming pass, so an unindexed FASTA gets random access without
 * holding its sequences in memory. Lines of a record must share one length (as samtools requires),
 * and no two records may share a name (the error names them and their header lines).
 */
export async function buildFaiIndex(path: string): Promise<string> {
  const rows: string[] = [];
  const headerLines = new Map<string, number[]>();
  let lineNumber = 0;
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
    lineNumber++;
    if (line.startsWith('>')) {
      finish();
      name = line.slice(1).trim().split(/\s+/)[0];
      if (!name) throw new InputError(`${path}:${lineNumber}: a FASTA header has no name (byte ${start})`);
      const seen = headerLines.get(name);
      if (seen) seen.push(lineNumber);
      else headerLines.set(name, [lineNumber]);
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
    if (short)
      throw new InputError(`${path}: record ${name} has lines of different lengths`, {
        hint: `index it with samtools faidx ${path}, or rewrap it (seqkit seq -w 60)`,
      });
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
  const duplicates = [...headerLines].filter(([, lines]) => lines.length > 1);
  if (duplicates.length) throw duplicateRecordNames(path, duplicates);
  return `${rows.join('\n')}\n`;
}

/**
 * The error for records sharing a name: the last would silently win (or the first be unreachable),
 * so a file with them is refused, naming each name and the lines of its headers.
 */
export function duplicateRecordNames(source: string, duplicates: [string, number[]][]): InputError {
  const shown = duplicates
    .slice(0, 5)
    .map(([name, lines]) => `${name} (lines ${lines.join(', ')})`)
    .join('; ');
  return new InputError(`${source}: FASTA records share a name: ${shown}${duplicates.length > 5 ? `; ${duplicates.length} names in all` : ''}`, {
    hint: 'give each record its own name (the first word after >)',
  });
}
