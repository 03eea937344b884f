import { matchContigName } from '../io/fasta.js';
import type { AnnotationRecord, AnnotationTable } from './table.js';

/** A transcript that contains a position, with its row number in the table. */
export interface TranscriptHit {
  /** 0-based index of the row in the table (SpliceAI reports genes in table order). */
  index: number;
  row: AnnotationRecord;
}

interface ChromIndex {
  /** Row indices sorted by txStart. */
  order: Int32Array;
  starts: Float64Array;
  /** Running maximum of txEnd over `order`, for a backward scan that can stop early. */
  maxEnds: Float64Array;
}

/**
 * Finds the transcripts of an annotation table that contain a 1-based position, as SpliceAI's
 * `get_name_and_strand` does (`TX_START+1 <= pos <= TX_END`), with chromosome names matched with
 * or without a `chr` prefix.
 */
export class AnnotationIndex {
  readonly table: AnnotationTable;
  private readonly byChrom = new Map<string, ChromIndex>();
  private readonly names: string[];

  constructor(table: AnnotationTable) {
    this.table = table;
    const groups = new Map<string, number[]>();
    table.rows.forEach((r, i) => {
      let g = groups.get(r.chrom);
      if (!g) groups.set(r.chrom, (g = []));
      g.push(i);
    });
    for (const [chrom, idx] of groups) {
      idx.sort((a, b) => table.rows[a].txStart - table.rows[b].txStart || a - b);
      const starts = Float64Array.from(idx, (i) => table.rows[i].txStart);
      const maxEnds = new Float64Array(idx.length);
      let max = -Infinity;
      idx.forEach((i, k) => {
        max = Math.max(max, table.rows[i].txEnd);
        maxEnds[k] = max;
      });
      this.byChrom.set(chrom, { order: Int32Array.from(idx), starts, maxEnds });
    }
    this.names = [...groups.keys()];
  }

  /** The table's name for a contig (`10` finds `chr10` and the reverse), or undefined. */
  chromName(chrom: string): string | undefined {
    return matchContigName(this.names, chrom);
  }

  /** Transcripts containing the 1-based `pos`, in table order. */
  overlapping(chrom: string, pos: number): TranscriptHit[] {
    const name = this.chromName(chrom);
    const index = name === undefined ? undefined : this.byChrom.get(name);
    if (!index) return [];
    // Last row whose 1-based start (txStart+1) is <= pos.
    let lo = 0;
    let hi = index.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (index.starts[mid] + 1 <= pos) lo = mid + 1;
      else hi = mid;
    }
    const hits: TranscriptHit[] = [];
    for (let k = lo - 1; k >= 0 && index.maxEnds[k] >= pos; k--) {
      const i = index.order[k];
      if (this.table.rows[i].txEnd >= pos) hits.push({ index: i, row: this.table.rows[i] });
    }
    return hits.sort((a, b) => a.index - b.index);
  }
}

/**
 * SpliceAI's `dist_ann` for a 1-based position: distances to the transcript start (1-based) and
 * end, and to the nearest exon boundary (1-based exon starts and ends), where a tie between an
 * upstream and a downstream boundary goes to the upstream one (the negative distance). A row
 * without exons uses the transcript ends as its boundaries.
 */
export function transcriptDistances(row: AnnotationRecord, pos: number): { txStart: number; txEnd: number; exonBoundary: number } {
  const bounds = row.exonStarts.length ? [...row.exonStarts.map((s) => s + 1), ...row.exonEnds] : [row.txStart + 1, row.txEnd];
  let best = Infinity;
  for (const b of bounds) {
    const d = b - pos;
    if (Math.abs(d) < Math.abs(best) || (Math.abs(d) === Math.abs(best) && d < best)) best = d;
  }
  return { txStart: row.txStart + 1 - pos, txEnd: row.txEnd - pos, exonBoundary: best };
}
