/**
 * Cones: the variants of each transcript (substitutions, deletions and insertions), grouped into
 * stretches, each scored against one shared reference by recomputing only what it changes (`runCones`).
 */
import { reverseComplementCodes } from '@metaspliceai/core';
import type { ConeJob } from '@metaspliceai/core';
import { type Job, type JobRows, jobPosition, maskedGenome, type Plan, type ScoringSetup } from './plan.js';
import { groupStretches } from './stretches.js';
import { reverseRows } from './tiles.js';

/**
 * Outputs per cone stretch: bounds the reference states kept (6.4 KB per position for the 5-model
 * 10000 ensembles: 5 boundaries x 5 members x 64 channels x 4 bytes) while sharing one reference
 * between the variants of a gene.
 */
export const CONE_STRETCH = 20_000;

/** One stretch: its reference, the cones on it, and how their rows become the jobs' rows. */
export interface ConeWork {
  /** The masked genome around a stretch of variants, in the frame the model sees. */
  reference: Uint8Array;
  jobs: { job: Job; cone: ConeJob }[];
  finish(referenceRows: Float32Array, rows: JobRows): void;
}

/** The cone work of `jobs`, one item per stretch of a transcript. */
export async function coneWork(setup: ScoringSetup, plans: readonly Plan[], jobs: readonly Job[]): Promise<ConeWork[]> {
  const half = setup.context / 2;
  const { dist } = setup;
  const byTranscript = new Map<number, Job[]>();
  for (const job of jobs) {
    let list = byTranscript.get(job.hit.index);
    if (!list) byTranscript.set(job.hit.index, (list = []));
    list.push(job);
  }
  const work: ConeWork[] = [];
  for (const list of byTranscript.values()) {
    for (const { start: from, end: to, items: stretch } of groupStretches(
      list,
      (job) => [jobPosition(plans, job) - dist, jobPosition(plans, job) + dist] as const,
      setup.context,
      CONE_STRETCH,
    )) {
      const hit = stretch[0].hit;
      const reverse = hit.row.strand === '-';
      const first = from - half; // genome position of reference index 0
      const genome = await maskedGenome(setup, plans[stretch[0].record].fastaName!, hit, first, to + half);
      const length = genome.length;
      // Reference index of a genome position, in the frame the model sees.
      const index = (g: number) => (reverse ? length - 1 - (g - first) : g - first);
      const entries = stretch.map((job) => {
        const pos = jobPosition(plans, job);
        const replaced = plans[job.record].result.variant.ref.length;
        // REF covers pos..pos+replaced-1; reversed, its last base comes first. The outputs are the
        // alternate window's, which start at pos - dist (reversed: at pos + dist, left of the change
        // in that frame, so its index is the reference's) and number 2*dist+1 plus the length change.
        const cone: ConeJob = {
          changeStart: reverse ? index(pos + replaced - 1) : index(pos),
          alt: reverse ? reverseComplementCodes(job.altCodes) : job.altCodes,
          replaced,
          outputStart: reverse ? index(pos + dist) : index(pos - dist),
          outputCount: 2 * dist + 1 + job.altCodes.length - replaced,
        };
        return { job, cone };
      });
      work.push({
        reference: reverse ? reverseComplementCodes(genome) : genome,
        jobs: entries,
        finish: (referenceRows, rows) => {
          const genomeRows = reverse ? reverseRows(referenceRows) : referenceRows;
          for (const { job, cone } of entries) {
            const at = (jobPosition(plans, job) - dist - from) * 3;
            rows.set(job, { ref: genomeRows.slice(at, at + (2 * dist + 1) * 3), alt: reverse ? reverseRows(cone.output!) : cone.output! });
          }
        },
      });
    }
  }
  return work;
}
