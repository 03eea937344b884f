import { closeSync, openSync, readSync } from 'node:fs';
import { InputError } from '@metaspliceai/core';
import { RankingAccumulator } from './metrics.js';

/** Bytes per ranked position on disk: score (float32), 1-based coordinate (uint32), site flag (uint8). */
export const RANK_RECORD_BYTES = 9;

/**
 * The positions of one chunk (one contig) for one site type, to be ranked. Metrics are pooled
 * over the whole genome, so each chunk keeps its positions sorted on disk and the run merges the
 * files at the end: memory stays flat in the number of genes, and a resumed run ranks the
 * finished chunks it skipped.
 */
export class ChunkRanking {
  private scores = new Float32Array(1 << 16);
  private positions = new Uint32Array(1 << 16);
  private sites = new Uint8Array(1 << 16);
  private size = 0;
  /** Annotated sites added. */
  positives = 0;

  add(score: number, position: number, site: boolean): void {
    if (this.size === this.scores.length) this.grow();
    this.scores[this.size] = score;
    this.positions[this.size] = position;
    this.sites[this.size] = site ? 1 : 0;
    this.size++;
    if (site) this.positives++;
  }

  private grow(): void {
    const n = this.scores.length * 2;
    const s = new Float32Array(n);
    s.set(this.scores);
    const p = new Uint32Array(n);
    p.set(this.positions);
    const f = new Uint8Array(n);
    f.set(this.sites);
    this.scores = s;
    this.positions = p;
    this.sites = f;
  }

  /** The positions in ranking order (score descending, then coordinate, then input order), encoded. */
  encode(): Buffer {
    const order = new Uint32Array(this.size);
    for (let i = 0; i < this.size; i++) order[i] = i;
    const { scores, positions } = this;
    order.sort((a, b) => scores[b] - scores[a] || positions[a] - positions[b] || a - b);
    const out = Buffer.alloc(this.size * RANK_RECORD_BYTES);
    let o = 0;
    for (const i of order) {
      out.writeFloatLE(scores[i], o);
      out.writeUInt32LE(positions[i], o + 4);
      out[o + 8] = this.sites[i];
      o += RANK_RECORD_BYTES;
    }
    return out;
  }
}

/** A ranked chunk file and the index of its contig in the run's contig order. */
export interface RankFile {
  path: string;
  chrom: number;
}

class Cursor {
  private readonly fd: number;
  private readonly buffer = Buffer.alloc(RANK_RECORD_BYTES * 8192);
  private filled = 0;
  private at = 0;
  private offset = 0;
  score = 0;
  position = 0;
  site = false;

  constructor(
    readonly file: RankFile,
    readonly order: number,
  ) {
    this.fd = openSync(file.path, 'r');
  }

  /** Moves to the next record; false at the end (and closes the file). */
  next(): boolean {
    if (this.at + RANK_RECORD_BYTES > this.filled) {
      const rest = this.filled - this.at;
      this.buffer.copy(this.buffer, 0, this.at, this.filled);
      const read = readSync(this.fd, this.buffer, rest, this.buffer.length - rest, this.offset);
      this.offset += read;
      this.filled = rest + read;
      this.at = 0;
      if (this.filled < RANK_RECORD_BYTES) {
        if (this.filled > 0)
          throw new InputError(`${this.file.path}: truncated ranking file (${this.filled} stray bytes)`, {
            hint: 'rerun evaluate with --force to redo the chunk',
          });
        closeSync(this.fd);
        return false;
      }
    }
    this.score = this.buffer.readFloatLE(this.at);
    this.position = this.buffer.readUInt32LE(this.at + 4);
    this.site = this.buffer[this.at + 8] === 1;
    this.at += RANK_RECORD_BYTES;
    return true;
  }
}

const before = (a: Cursor, b: Cursor) =>
  a.score > b.score ||
  (a.score === b.score &&
    (a.file.chrom < b.file.chrom || (a.file.chrom === b.file.chrom && (a.position < b.position || (a.position === b.position && a.order < b.order)))));

/**
 * Merges ranked chunk files into one ranking (a k-way merge through a binary heap, one small
 * buffer per file) and returns top-k accuracy and average precision over it.
 */
export function mergeRankings(files: readonly RankFile[], positives: number): RankingAccumulator {
  const acc = new RankingAccumulator(positives);
  const heap: Cursor[] = [];
  const push = (c: Cursor) => {
    heap.push(c);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(heap[i], heap[p])) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  const siftDown = () => {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l], heap[m])) m = l;
      if (r < heap.length && before(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  files.forEach((f, i) => {
    const c = new Cursor(f, i);
    if (c.next()) push(c);
  });
  while (heap.length) {
    const top = heap[0];
    acc.add(top.site);
    if (top.next()) siftDown();
    else {
      const last = heap.pop()!;
      if (heap.length) {
        heap[0] = last;
        siftDown();
      }
    }
  }
  return acc;
}
