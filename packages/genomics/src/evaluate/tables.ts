import { createReadStream, promises as fs } from 'node:fs';
import { createInterface } from 'node:readline';
import { formatProbability } from '../io/prediction-writers.js';
import { moveIntoPlace } from './atomic.js';

/** How a column's values are typed in Parquet (TSV writes them all as text). */
export type ColumnKind = 'string' | 'int' | 'float' | 'double';

/** One output table: its file stem and columns, in MetaSpliceAI's names and order. */
export interface TableSpec {
  readonly name: string;
  readonly columns: readonly (readonly [name: string, kind: ColumnKind])[];
}

/** `splice_positions_enhanced`: the labelled positions (TP/FP/FN and sampled TN) with their scores. */
export const POSITIONS_TABLE: TableSpec = {
  name: 'splice_positions_enhanced',
  columns: [
    ['gene_id', 'string'],
    ['transcript_id', 'string'],
    ['position', 'int'],
    ['predicted_position', 'int'],
    ['true_position', 'int'],
    ['pred_type', 'string'],
    ['score', 'float'],
    ['strand', 'string'],
    ['donor_score', 'float'],
    ['acceptor_score', 'float'],
    ['neither_score', 'float'],
    ['splice_type', 'string'],
    ['chrom', 'string'],
    ['context_score_m2', 'float'],
    ['context_score_m1', 'float'],
    ['context_score_p1', 'float'],
    ['context_score_p2', 'float'],
  ],
};

/** `splice_errors`: every FP and FN with the window around it. */
export const ERRORS_TABLE: TableSpec = {
  name: 'splice_errors',
  columns: [
    ['gene_id', 'string'],
    ['transcript_id', 'string'],
    ['error_type', 'string'],
    ['position', 'int'],
    ['window_start', 'int'],
    ['window_end', 'int'],
    ['strand', 'string'],
    ['splice_type', 'string'],
  ],
};

/** `gene_manifest`: one row per requested gene, with what became of it. */
export const MANIFEST_TABLE: TableSpec = {
  name: 'gene_manifest',
  columns: [
    ['gene_id', 'string'],
    ['gene_name', 'string'],
    ['requested', 'string'],
    ['status', 'string'],
    ['reason', 'string'],
    ['num_positions', 'int'],
    ['num_nucleotides', 'int'],
    ['num_splice_sites', 'int'],
    ['processing_time_sec', 'double'],
    ['base_model', 'string'],
    ['genomic_build', 'string'],
    ['timestamp', 'string'],
  ],
};

/** `nucleotide_scores` (with `--nucleotide-scores`): every evaluated base's three scores. */
export const NUCLEOTIDES_TABLE: TableSpec = {
  name: 'nucleotide_scores',
  columns: [
    ['gene_id', 'string'],
    ['gene_name', 'string'],
    ['chrom', 'string'],
    ['strand', 'string'],
    ['position', 'int'],
    ['genomic_position', 'int'],
    ['donor_score', 'float'],
    ['acceptor_score', 'float'],
    ['neither_score', 'float'],
  ],
};

export const EVALUATION_TABLES: readonly TableSpec[] = [POSITIONS_TABLE, ERRORS_TABLE, MANIFEST_TABLE, NUCLEOTIDES_TABLE];

export type TableFormat = 'tsv' | 'parquet';

/** The header line of a table's TSV. */
export function tsvHeader(spec: TableSpec): string {
  return `${spec.columns.map(([name]) => name).join('\t')}\n`;
}

/** One row as a TSV line: null/undefined empty, scores with 7 significant digits (float32's precision). */
export function tsvLine(spec: TableSpec, row: object): string {
  const values = row as Record<string, unknown>;
  let line = '';
  for (let i = 0; i < spec.columns.length; i++) {
    const [name, kind] = spec.columns[i];
    const v = values[name];
    if (i > 0) line += '\t';
    if (v === null || v === undefined) continue;
    line += kind === 'float' && typeof v === 'number' ? formatProbability(v) : String(v).replace(/[\t\n]/g, ' ');
  }
  return `${line}\n`;
}

/**
 * Writes a table from its chunk parts (TSV bodies without a header, in order) atomically: the TSV
 * is the header then the parts byte for byte, so shards merge byte-identically; Parquet gets one
 * row group per part, so memory stays at one chunk.
 */
export async function writeTableFromParts(spec: TableSpec, parts: readonly string[], path: string, format: TableFormat): Promise<void> {
  if (format === 'tsv') {
    await moveIntoPlace(path, async (temp) => {
      const out = await fs.open(temp, 'w');
      try {
        await out.write(tsvHeader(spec));
        for (const part of parts) {
          for await (const block of createReadStream(part)) await out.write(block as Buffer);
        }
      } finally {
        await out.close();
      }
    });
    return;
  }
  const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
  await moveIntoPlace(path, async (temp) => {
    const writer = new ParquetWriter({
      writer: fileWriter(temp),
      schema: [
        { name: 'root', num_children: spec.columns.length },
        ...spec.columns.map(([name, kind]) => ({
          name,
          repetition_type: 'OPTIONAL' as const,
          ...(kind === 'string'
            ? { type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const }
            : { type: kind === 'int' ? ('INT32' as const) : kind === 'float' ? ('FLOAT' as const) : ('DOUBLE' as const) }),
        })),
      ],
      createdBy: 'metaspliceai evaluate',
    });
    for (const part of parts) {
      const columns: (string | number | null)[][] = spec.columns.map(() => []);
      const lines = createInterface({ input: createReadStream(part), crlfDelay: Infinity });
      for await (const line of lines) {
        if (line === '') continue;
        const fields = line.split('\t');
        spec.columns.forEach(([, kind], i) => {
          const f = fields[i] ?? '';
          columns[i].push(kind === 'string' ? f : f === '' ? null : Number(f));
        });
      }
      if (columns[0].length === 0) continue;
      await writer.write({ columnData: spec.columns.map(([name], i) => ({ name, data: columns[i] })), rowGroupSize: columns[0].length });
    }
    await writer.finish();
  });
}
