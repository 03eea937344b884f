import { InputError } from '@metaspliceai/core';
import { readTextLines, type TextInput } from '../io/lines.js';

/**
 * One row of a SpliceAI annotation table (`grch37.txt` format): a transcript and its exons.
 * Coordinates are as in the file, UCSC style: starts 0-based, ends 1-based (half-open
 * `[start, end)`), so the transcript covers 1-based positions `txStart+1 .. txEnd`.
 */
export interface AnnotationRecord {
  /** The gene symbol SpliceAI prints (`#NAME`). */
  name: string;
  chrom: string;
  strand: '+' | '-';
  txStart: number;
  txEnd: number;
  /** 0-based exon starts, ascending as in the file. */
  exonStarts: number[];
  /** 1-based exon ends. */
  exonEnds: number[];
  /**
   * Compiled from GTF/GFF3 only (tables have no such columns): the transcript's and gene's ids, its
   * biotype and tags (`MANE_Select`, `Ensembl_canonical`, ...), which SpliceAI-lookup reports.
   */
  transcriptId?: string;
  geneId?: string;
  biotype?: string;
  tags?: string[];
}

export interface AnnotationTable {
  /** Where the rows came from (a path, or a name such as `grch37`). */
  source: string;
  rows: AnnotationRecord[];
}

/** The columns SpliceAI reads, by name (pandas `read_csv` with a header), in its order. */
export const ANNOTATION_TABLE_COLUMNS = ['#NAME', 'CHROM', 'STRAND', 'TX_START', 'TX_END', 'EXON_START', 'EXON_END'] as const;

/**
 * Reads a SpliceAI annotation table (tab-separated, header `#NAME CHROM STRAND TX_START TX_END
 * EXON_START EXON_END`; columns found by name, extra columns ignored; plain or gzip). Errors name
 * the file and line.
 */
export async function readAnnotationTable(input: TextInput, name = typeof input === 'string' ? input : 'annotation table'): Promise<AnnotationTable> {
  const rows: AnnotationRecord[] = [];
  let columns: Map<string, number> | undefined;
  for await (const line of readTextLines(input, name)) {
    if (line.text.trim() === '') continue;
    const fields = line.text.split('\t');
    if (!columns) {
      columns = headerColumns(fields, name, line.number);
      continue;
    }
    rows.push(parseRow(fields, columns, name, line.number));
  }
  if (!columns) throw new InputError(`${name}: empty annotation table`, { hint: `the first line must be the header: ${ANNOTATION_TABLE_COLUMNS.join('\\t')}` });
  return { source: name, rows };
}

/** Parses a whole table held in memory (see readAnnotationTable). */
export function parseAnnotationTable(text: string, name = 'annotation table'): AnnotationTable {
  const rows: AnnotationRecord[] = [];
  let columns: Map<string, number> | undefined;
  text.split('\n').forEach((raw, i) => {
    const lineText = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (lineText.trim() === '') return;
    const fields = lineText.split('\t');
    if (!columns) columns = headerColumns(fields, name, i + 1);
    else rows.push(parseRow(fields, columns, name, i + 1));
  });
  if (!columns) throw new InputError(`${name}: empty annotation table`);
  return { source: name, rows };
}

function headerColumns(fields: string[], name: string, line: number): Map<string, number> {
  const columns = new Map(fields.map((f, i) => [f.trim(), i]));
  const missing = ANNOTATION_TABLE_COLUMNS.filter((c) => !columns.has(c));
  if (missing.length) {
    throw new InputError(`${name}:${line}: not a SpliceAI annotation table header (missing ${missing.join(', ')})`, {
      hint: `the header is: ${ANNOTATION_TABLE_COLUMNS.join('<TAB>')}; build a table from a GTF/GFF3 with: metaspliceai annotations build`,
    });
  }
  return columns;
}

function parseRow(fields: string[], columns: Map<string, number>, name: string, line: number): AnnotationRecord {
  const at = (c: (typeof ANNOTATION_TABLE_COLUMNS)[number]) => fields[columns.get(c)!];
  const where = `${name}:${line}`;
  if (fields.length < columns.size) throw new InputError(`${where}: ${fields.length} columns, the header has ${columns.size}`);
  const int = (c: 'TX_START' | 'TX_END', value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new InputError(`${where}: ${c} is "${value}", not a non-negative integer`);
    return n;
  };
  const list = (c: 'EXON_START' | 'EXON_END', value: string) => {
    const parts = value.split(',');
    if (parts[parts.length - 1].trim() === '') parts.pop(); // lists are comma-terminated
    return parts.map((p) => {
      const n = Number(p);
      if (p.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new InputError(`${where}: ${c} holds "${p}", not a non-negative integer`);
      return n;
    });
  };
  const strand = at('STRAND').trim();
  if (strand !== '+' && strand !== '-') throw new InputError(`${where}: STRAND is "${strand}", expected + or -`);
  const row: AnnotationRecord = {
    name: at('#NAME'),
    chrom: at('CHROM').trim(),
    strand,
    txStart: int('TX_START', at('TX_START')),
    txEnd: int('TX_END', at('TX_END')),
    exonStarts: list('EXON_START', at('EXON_START')),
    exonEnds: list('EXON_END', at('EXON_END')),
  };
  if (row.txEnd <= row.txStart) throw new InputError(`${where}: TX_END ${row.txEnd} is not after TX_START ${row.txStart}`);
  if (row.exonStarts.length !== row.exonEnds.length) {
    throw new InputError(`${where}: ${row.exonStarts.length} exon starts but ${row.exonEnds.length} exon ends`);
  }
  return row;
}

/** Writes rows as a SpliceAI annotation table (header included), loadable by SpliceAI itself. */
export function formatAnnotationTable(rows: readonly AnnotationRecord[]): string {
  const lines = [ANNOTATION_TABLE_COLUMNS.join('\t')];
  for (const r of rows) {
    lines.push([r.name, r.chrom, r.strand, r.txStart, r.txEnd, r.exonStarts.map((s) => `${s},`).join(''), r.exonEnds.map((e) => `${e},`).join('')].join('\t'));
  }
  return `${lines.join('\n')}\n`;
}
