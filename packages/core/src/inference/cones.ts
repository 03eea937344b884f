import type { StagedNetwork, StageTensor } from '../adapter/contract.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * A substitution to score against a shared reference, in the reference's own coordinates (input
 * positions of `reference`; for a minus-strand transcript, of the reverse complement).
 */
export interface ConeJob {
  /** First changed input position; the change covers `alt.length` positions. */
  changeStart: number;
  /** Codes replacing the reference there. */
  alt: Uint8Array;
  /** The input position of the first output wanted, and how many consecutive outputs. */
  outputStart: number;
  outputCount: number;
  /** Filled in: `(outputCount, 3)` rows. */
  output?: Float32Array;
}

type Span = readonly [number, number];

/**
 * Scores substitutions by recomputing only what they change. The reference runs once through every
 * stage and its states are kept; a change at positions x..y alters a stage boundary only within
 * the reaches summed so far, and only the part later stages need for the wanted outputs is
 * recomputed, on the reference states with the changed part spliced in. The rows are those a whole
 * alternate window would give. Returns the reference's own rows (`reference.length - context`).
 */
export async function runCones(
  net: StagedNetwork,
  reference: Uint8Array,
  jobs: readonly ConeJob[],
  batchSize: number,
  onJobs?: (done: number) => void,
): Promise<Float32Array> {
  const stages = net.reach.length;
  if (stages < 2) throw new InvalidArgumentError(`a staged network needs at least 2 stages, got ${stages}`);
  // extent[k]: positions lost on each side before boundary k (the input is boundary 0).
  const extent = [0];
  for (const r of net.reach) extent.push(extent[extent.length - 1] + r);
  const half = extent[stages];
  for (const job of jobs) {
    if (job.outputStart < half || job.outputStart + job.outputCount > reference.length - half || job.outputCount < 1) {
      throw new InvalidArgumentError(
        `outputs ${job.outputStart}..${job.outputStart + job.outputCount - 1} are not inside the reference's ${reference.length - 2 * half} outputs`,
      );
    }
  }

  // The reference's states at every boundary between stages.
  const states: StageTensor[] = [];
  let state = await net.runFirst({ codes: reference, batch: 1, length: reference.length });
  states[1] = state;
  for (let k = 1; k < stages - 1; k++) states[k + 1] = state = await net.runMiddle(k, state);
  const referenceRows = await net.runLast(state);

  // Jobs with the same geometry run as one batch.
  const groups = new Map<string, { job: ConeJob; plan: ConePlan }[]>();
  for (const job of jobs) {
    const plan = planCone(job, net.reach, extent);
    const key = plan.inputs.map((s) => s[1] - s[0]).join(',');
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push({ job, plan });
  }
  let done = 0;
  for (const group of groups.values()) {
    for (let first = 0; first < group.length; first += batchSize) {
      const batch = group.slice(first, first + batchSize);
      const width = batch[0].plan.inputs[0][1] - batch[0].plan.inputs[0][0] + 1;
      const codes = new Uint8Array(batch.length * width);
      batch.forEach(({ job, plan }, b) => {
        const [lo] = plan.inputs[0];
        codes.set(reference.subarray(lo, lo + width), b * width);
        for (let i = 0; i < job.alt.length; i++) {
          const at = job.changeStart + i - lo;
          if (at >= 0 && at < width) codes[b * width + at] = job.alt[i];
        }
      });
      let changed = await net.runFirst({ codes, batch: batch.length, length: width });
      for (let k = 1; k < stages; k++) {
        const input = splice(
          states[k],
          extent[k],
          changed,
          batch.map((j) => j.plan),
          k,
        );
        if (k < stages - 1) {
          changed = await net.runMiddle(k, input);
          continue;
        }
        const rows = await net.runLast(input);
        const per = rows.length / batch.length;
        batch.forEach(({ job }, b) => (job.output = rows.slice(b * per, (b + 1) * per)));
      }
      done += batch.length;
      onJobs?.(done);
    }
  }
  return referenceRows;
}

interface ConePlan {
  /** Input span of each stage (positions of the input sequence), stage 0 first. */
  inputs: Span[];
  /** Span each stage's output is computed on; `changes[k]` is boundary k + 1. */
  changes: Span[];
}

/**
 * Boundary k differs from the reference only within `extent[k]` of the change, and only the part
 * within `context/2 - extent[k]` of the wanted outputs matters: recompute the intersection (all the
 * wanted outputs at the last boundary). Each stage needs its output span widened by its reach.
 */
function planCone(job: ConeJob, reach: readonly number[], extent: readonly number[]): ConePlan {
  const stages = reach.length;
  const half = extent[stages];
  const first = job.outputStart;
  const last = job.outputStart + job.outputCount - 1;
  const changes: Span[] = [];
  for (let k = 1; k <= stages; k++) {
    if (k === stages) {
      changes.push([first, last]);
      continue;
    }
    const lo = Math.max(job.changeStart - extent[k], first - (half - extent[k]));
    const hi = Math.min(job.changeStart + job.alt.length - 1 + extent[k], last + (half - extent[k]));
    changes.push([lo, hi]);
  }
  const inputs = changes.map(([lo, hi], k): Span => [lo - reach[k], hi + reach[k]]);
  return { inputs, changes };
}

/**
 * Stage k's input for each job: the reference state over the stage's input span, with the part the
 * change reached (computed by stage k - 1, in `changed`) written over it.
 */
function splice(reference: StageTensor, lost: number, changed: StageTensor, plans: readonly ConePlan[], k: number): StageTensor {
  const [lo, hi] = plans[0].inputs[k];
  const length = hi - lo + 1;
  const channels = reference.channels;
  const data = new Float32Array(plans.length * channels * length);
  plans.forEach((plan, b) => {
    const [from] = plan.inputs[k];
    const [cLo, cHi] = plan.changes[k - 1];
    const start = Math.max(cLo, from);
    const end = Math.min(cHi, from + length - 1);
    for (let c = 0; c < channels; c++) {
      const row = (b * channels + c) * length;
      const refRow = c * reference.length + (from - lost);
      data.set(reference.data.subarray(refRow, refRow + length), row);
      if (start > end) continue;
      const changedRow = (b * channels + c) * changed.length + (start - cLo);
      data.set(changed.data.subarray(changedRow, changedRow + end - start + 1), row + (start - from));
    }
  });
  return { data, batch: plans.length, channels, length };
}
