import type { StagedNetwork } from '../adapter/contract.js';
import { CODE_N } from '../sequence/encoding.js';
import { type ConeJob, runCones } from './cones.js';
import type { PackedChunk, PackJob } from './packing.js';

/**
 * Isolated jobs up to this fraction of the context run as cones. Measured (README, Performance):
 * cones save a fixed amount of work per record (context/2 of N in a tile against the reaches of
 * the stages), so the gain falls with length: 1.7x at 400 nt, 1.05-1.1x at context/2, none at the
 * whole context, where the reference's states also grow.
 */
export const CONE_LENGTH_FRACTION = 0.5;

/**
 * The fewest consecutive short isolated jobs that run as cones; fewer share tiles. Cones first
 * build the stage graphs, open their sessions and run the all-N reference: one 400-nt sequence
 * through the CLI (SpliceAI 10000) took 2.52 s and 560 MB as a cone against 2.10 s and 301-321 MB
 * in a tile, while each further 400-nt record saves ~0.1 s (1.6-1.8x).
 */
export const MIN_CONE_RUN = 8;

/** Jobs per `runCones` call: each call runs the all-N reference once, so it must serve many jobs. */
export const CONE_CHUNK = 256;

/** A job's length is rounded up to a step of this fraction of the context, so records of similar length share a batch. */
const STEP_FRACTION = 1 / 100;

/** Whether an isolated job of this length runs as a cone rather than in a packed tile. */
export function takesCone(job: PackJob<unknown>, context: number): boolean {
  return job.isolated === true && job.outputLength > 0 && job.outputLength <= CONE_LENGTH_FRACTION * context;
}

/**
 * Short isolated jobs (N beyond both ends) through a staged network, each as the change of an
 * all-N reference at context/2: away from a record's bases every activation is that of an all-N
 * input, so `runCones` recomputes only what its bases reach and its outputs need, instead of the
 * context/2 of N a packed tile computes per record. A job's length is rounded up with N on its
 * right, which is its own N padding (the rows of its bases do not change; the extra rows are
 * dropped), so that jobs of similar length share a batch. Yields each job's rows in job order.
 */
export async function* predictIsolatedCones<T>(
  net: StagedNetwork,
  context: number,
  width: number,
  jobs: readonly PackJob<T>[],
  batchSize: number,
): AsyncGenerator<PackedChunk<T>> {
  const half = context / 2;
  const step = Math.max(1, Math.ceil(context * STEP_FRACTION));
  const cones: ConeJob[] = [];
  let longest = 0;
  for (const job of jobs) {
    const rounded = Math.ceil(job.outputLength / step) * step;
    const alt = new Uint8Array(rounded).fill(CODE_N);
    alt.set(await job.source(half, half + job.outputLength));
    cones.push({ changeStart: half, alt, outputStart: half, outputCount: rounded });
    longest = Math.max(longest, rounded);
  }
  await runCones(net, new Uint8Array(longest + context).fill(CODE_N), cones, batchSize);
  for (const [i, job] of jobs.entries()) {
    yield { tag: job.tag, offset: 0, length: job.outputLength, probabilities: cones[i].output!.subarray(0, job.outputLength * width), done: true };
  }
}
