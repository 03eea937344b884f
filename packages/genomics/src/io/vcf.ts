import VCFParser from '@gmod/vcf';
import { InputError } from '@metaspliceai/core';
import { readTextLines, type TextInput, type TextLine } from './lines.js';

/** The INFO header line SpliceAI 1.3 adds, verbatim, so downstream parsers of SpliceAI output work unchanged. */
export const SPLICEAI_INFO_HEADER =
  '##INFO=<ID=SpliceAI,Number=.,Type=String,Description="SpliceAIv1.3 variant annotation. These include delta scores (DS) and delta positions (DP) for acceptor gain (AG), acceptor loss (AL), donor gain (DG), and donor loss (DL). Format: ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL">';

export interface VcfHeader {
  /** The `##` lines as read (endings kept). */
  meta: TextLine[];
  /** The `#CHROM` line. */
  columns: TextLine;
  samples: string[];
  /** Columns a record must have: 8, or 9 + samples. */
  columnCount: number;
}

/** The fields of a record scoring needs. */
export interface VcfVariant {
  chrom: string;
  /** 1-based. */
  pos: number;
  ref: string;
  /** Empty when ALT is `.`. */
  alts: string[];
}

/** A body line, kept as read so it can be written back byte for byte. */
export interface VcfLine {
  line: TextLine;
  /** A record that parsed; undefined for malformed ones, blank lines and `#` comments. */
  variant?: VcfVariant;
  /** Why a non-blank, non-comment line is not a record. */
  problem?: string;
}

export interface VcfReader {
  header: VcfHeader;
  /** Body lines in order. Malformed ones come with `problem` instead of failing the read. */
  lines: AsyncGenerator<VcfLine>;
}

/**
 * Opens a VCF (plain, gzip or bgzip; a path or a stream such as stdin) and reads its header with
 * @gmod/vcf. Records are read lazily; a malformed one (wrong column count, POS not a whole number,
 * a line the parser rejects) is reported in `problem` so the caller can write it through and warn.
 * Only a missing or broken header is an InputError.
 */
export async function openVcf(
  input: TextInput,
  options: { name?: string; onRead?: (bytes: number) => void; /** A bgzip input without its end-of-file block. */ onWarning?: (message: string) => void } = {},
): Promise<VcfReader> {
  const name = options.name ?? (typeof input === 'string' ? input : 'VCF input');
  const source = readTextLines(input, name, options.onRead, options.onWarning);
  const meta: TextLine[] = [];
  let columns: TextLine | undefined;
  for (;;) {
    const next = await source.next();
    if (next.done) break;
    const line = next.value;
    if (line.text.startsWith('##')) meta.push(line);
    else if (line.text.startsWith('#')) {
      columns = line;
      break;
    } else if (line.text.trim() === '') continue;
    else
      throw new InputError(`${name}:${line.number}: a record before the #CHROM header line`, { hint: 'a VCF starts with ## meta lines and the #CHROM line' });
  }
  if (!columns) throw new InputError(`${name}: no #CHROM header line`, { hint: 'is this a VCF file?' });
  let parser: VCFParser;
  try {
    // Free-text `##` lines (no `key=`) are kept for the output but not given to the parser, which refuses them.
    const parsed = meta.filter((l) => /^##[^=\s]+=/.test(l.text));
    parser = new VCFParser({ header: [...parsed, columns].map((l) => l.text).join('\n'), strict: true });
  } catch (cause) {
    throw new InputError(`${name}: bad VCF header (${(cause as Error).message.split('\n')[0]})`, { cause });
  }
  const samples = parser.samples;
  const columnCount = samples.length ? 9 + samples.length : columns.text.split('\t').length >= 9 ? 9 : 8;
  const header: VcfHeader = { meta, columns, samples, columnCount };

  async function* lines(): AsyncGenerator<VcfLine> {
    for (;;) {
      const next = await source.next();
      if (next.done) return;
      const line = next.value;
      if (line.text === '' || line.text.startsWith('#')) {
        yield { line };
        continue;
      }
      yield parseRecord(line, parser, columnCount);
    }
  }
  return { header, lines: lines() };
}

function parseRecord(line: TextLine, parser: VCFParser, columnCount: number): VcfLine {
  const fields = line.text.split('\t');
  if (fields.length !== columnCount) return { line, problem: `${fields.length} columns, the header has ${columnCount}` };
  if (!/^\d+$/.test(fields[1])) return { line, problem: `POS "${fields[1]}" is not a whole number` };
  if (fields[3] === '' || fields[4] === '') return { line, problem: 'empty REF or ALT' };
  try {
    const v = parser.parseLine(line.text);
    return { line, variant: { chrom: v.CHROM ?? fields[0], pos: v.POS, ref: v.REF ?? fields[3], alts: v.ALT ?? [] } };
  } catch (cause) {
    return { line, problem: (cause as Error).message.split('\n')[0] };
  }
}

/**
 * The output header: the input's `##` lines (minus any earlier definition of the INFO key), then
 * the key's INFO line (default SpliceAI's) and `extra` lines (provenance), then `#CHROM`, with the
 * input's line ending.
 */
export function formatVcfHeader(
  header: VcfHeader,
  extra: readonly string[] = [],
  info: { key: string; line: string } = { key: 'SpliceAI', line: SPLICEAI_INFO_HEADER },
): string {
  const eol = header.columns.eol || '\n';
  let out = '';
  for (const m of header.meta) if (!m.text.startsWith(`##INFO=<ID=${info.key},`)) out += m.text + (m.eol || eol);
  for (const line of [info.line, ...extra]) out += line + eol;
  return out + header.columns.text + (header.columns.eol || eol);
}

/**
 * A record line with `key=value` set in INFO (column 8): it takes the place of the key's first
 * earlier entry (or is appended, replacing `.`), and every other entry of the key is dropped. Empty entries (`A=1;;B`, a trailing `;`) are
 * left out of the rewritten INFO. Every other column is kept byte for byte.
 */
export function setInfoField(text: string, key: string, value: string): string {
  return editInfo(text, key, `${key}=${value}`).text;
}

/**
 * A record line without any INFO entry of `key` (`removed` says whether it had one). A line that
 * has none comes back unchanged; otherwise INFO is rewritten without empty entries, and is `.`
 * when nothing remains.
 */
export function removeInfoField(text: string, key: string): { text: string; removed: boolean } {
  return editInfo(text, key, undefined);
}

function editInfo(text: string, key: string, entry: string | undefined): { text: string; removed: boolean } {
  const fields = text.split('\t');
  const info = fields[7];
  if (info === undefined) throw new InputError(`a VCF record without an INFO column: ${text.slice(0, 80)}`);
  const parts = info === '.' ? [] : info.split(';').filter((p) => p !== '');
  const isKey = (p: string) => p === key || p.startsWith(`${key}=`);
  const first = parts.findIndex(isKey);
  if (entry === undefined && first === -1) return { text, removed: false };
  const kept = parts.filter((p, i) => i === first || !isKey(p));
  // The new entry takes the place of the first old one (as a rewrite in place would), else goes last.
  if (first !== -1) kept.splice(first, 1, ...(entry === undefined ? [] : [entry]));
  else kept.push(entry!);
  fields[7] = kept.length ? kept.join(';') : '.';
  return { text: fields.join('\t'), removed: first !== -1 };
}
