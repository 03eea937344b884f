/**
 * Whole windows: each job's alternate window as SpliceAI builds it, and the reference rows the jobs
 * need, either predicted once per stretch of a transcript (shared) or once per record.
 */
import { reverseComplementCodes } from '@metaspliceai/core';
import type { TranscriptHit } from '../annotations/lookup.js';
import { type Job, type JobRows, jobPosition, maskedGenome, maskWindow, type Plan, type ScoringSetup } from './plan.js';
import { groupStretches, type Stretch } from './stretches.js';
import type { Tile } from './tiles.js';

/** How reference rows are predicted. */
export interface ReferenceSharing {
  /** One reference per stretch of a transcript (true) or each record's own window (false). */
  share: boolean;
  /** Output positions per shared-reference tile. */
  tileSize: number;
}

/**
 * The alternate windows of `jobs` (the masked window with the ALT in place, reverse-complemented
 * on the minus strand) and their reference tiles; `finish` fills the jobs' rows once all ran.
 */
export async function wholeWindowWork(
  setup: ScoringSetup,
  plans: readonly Plan[],
  jobs: readonly Job[],
  sharing: ReferenceSharing,
): Promise<{ tiles: Tile[]; finish: (rows: JobRows) => void }> {
  const half = setup.context / 2 + setup.dist;
  const altTiles = jobs.map((job): Tile => {
    const plan = plans[job.record];
    const masked = maskWindow(setup, plan.window!, plan.result.variant.pos, job.hit);
    const refLength = plan.result.variant.ref.length;
    const codes = new Uint8Array(masked.length - refLength + job.altCodes.length);
    codes.set(masked.subarray(0, half), 0);
    codes.set(job.altCodes, half);
    codes.set(masked.subarray(half + refLength), half + job.altCodes.length);
    const reverse = job.hit.row.strand === '-';
    return { codes: reverse ? reverseComplementCodes(codes) : codes, reverse };
  });
  const reference = await referenceTiles(setup, plans, jobs, sharing);
  const cov = 2 * setup.dist + 1;
  return {
    tiles: [...altTiles, ...reference.tiles],
    finish: (rows) => {
      jobs.forEach((job, i) => rows.set(job, { ref: reference.rows(job.hit.index, jobPosition(plans, job), cov), alt: altTiles[i].output! }));
    },
  };
}

type TiledStretch = Stretch<number> & { tiles: { from: number; tile: Tile }[] };

/**
 * Reference predictions for every (record, transcript) the jobs need. Shared: the positions
 * POS-dist..POS+dist of all variants of a transcript, merged where the gap is under one context,
 * are predicted as stretches of the masked genome. Not shared: each record's own window, exactly
 * as SpliceAI runs it.
 */
async function referenceTiles(
  setup: ScoringSetup,
  plans: readonly Plan[],
  jobs: readonly Job[],
  sharing: ReferenceSharing,
): Promise<{ tiles: Tile[]; rows: (transcript: number, pos: number, cov: number) => Float32Array }> {
  const { dist, context } = setup;
  const wanted = new Map<number, { hit: TranscriptHit; fastaName: string; positions: Set<number> }>();
  for (const job of jobs) {
    let w = wanted.get(job.hit.index);
    if (!w) wanted.set(job.hit.index, (w = { hit: job.hit, fastaName: plans[job.record].fastaName!, positions: new Set() }));
    w.positions.add(jobPosition(plans, job));
  }
  const segments = new Map<number, TiledStretch[]>();
  const tiles: Tile[] = [];
  // Not shared: a stretch of one window per position.
  const maxSpan = sharing.share ? Infinity : 2 * dist + 1;
  const size = sharing.share ? sharing.tileSize : 2 * dist + 1;
  for (const [index, w] of wanted) {
    const list: TiledStretch[] = groupStretches([...w.positions], (pos) => [pos - dist, pos + dist] as const, context, maxSpan).map((s) => ({
      ...s,
      tiles: [],
    }));
    const reverse = w.hit.row.strand === '-';
    for (const segment of list) {
      for (let from = segment.start; from <= segment.end; from += size) {
        const to = Math.min(from + size - 1, segment.end);
        const codes = await maskedGenome(setup, w.fastaName, w.hit, from - context / 2, to + context / 2);
        const tile: Tile = { codes: reverse ? reverseComplementCodes(codes) : codes, reverse };
        segment.tiles.push({ from, tile });
        tiles.push(tile);
      }
    }
    segments.set(index, list);
  }
  const rows = (transcript: number, pos: number, cov: number): Float32Array => {
    const first = pos - dist;
    const segment = segments.get(transcript)!.find((s) => s.start <= first && first + cov - 1 <= s.end)!;
    const out = new Float32Array(cov * 3);
    for (const { from, tile } of segment.tiles) {
      const rowsInTile = tile.output!.length / 3;
      const lo = Math.max(first, from);
      const hi = Math.min(first + cov - 1, from + rowsInTile - 1);
      if (lo > hi) continue;
      out.set(tile.output!.subarray((lo - from) * 3, (hi - from + 1) * 3), (lo - first) * 3);
    }
    return out;
  };
  return { tiles, rows };
}
