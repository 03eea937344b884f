import type { ConeCost, StagedNetwork, StageTensor } from '../adapter/contract.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * A change to score against a shared reference: `replaced` reference positions from `changeStart`
 * become `alt` (a substitution when they are as many; a deletion or insertion otherwise). Positions
 * are input positions of `reference` (for a minus-strand transcript, of its reverse complement);
 * outputs are in the alternate frame, the reference with the change made, whose positions equal the
 * reference's left of the change and are shifted by `alt.length - replaced` right of it.
 */
export interface ConeJob {
  /** First changed input position. */
  changeStart: number;
  /** Codes replacing the reference there. */
  alt: Uint8Array;
  /** Reference positions replaced (default `alt.length`: a substitution). */
  replaced?: number;
  /** The input position of the first output wanted, and how many consecutive outputs (alternate frame). */
  outputStart: number;
  outputCount: number;
  /** Filled in: `(outputCount, 3)` rows. */
  output?: Float32Array;
}

type Span = readonly [number, number];

/** The cone cost of networks run together (an ensemble's members). */
export function sumConeCost(costs: readonly ConeCost[]): ConeCost {
  return costs.reduce((sum, c) => ({ staged: sum.staged + c.staged, minimal: sum.minimal + c.minimal }), { staged: 0, minimal: 0 });
}

/**
 * Scores changes by recomputing only what they change. The reference runs once through every stage
 * and its states are kept; at stage boundary k a change alters only the positions within the reaches
 * summed so far (`extent[k]`) of it, those left of it keep the reference's state and those right of
 * it the reference's state shifted by the length change. Only the changed part later stages need for
 * the wanted outputs is recomputed, on the reference states with it spliced in. The rows are those a
 * whole alternate window would give. Returns the reference's own rows (`reference.length - context`).
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
  for (const job of jobs) checkJob(job, reference.length, extent[stages]);

  // Jobs with the same geometry run as one batch.
  const groups = new Map<string, { job: ConeJob; plan: ConePlan }[]>();
  for (const job of jobs) {
    const plan = planCone(job, net.reach, extent);
    const key = plan.inputs.map((s) => s[1] - s[0]).join(',');
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push({ job, plan });
  }

  // The reference's states at every boundary between stages. A stage session keeps its peak working
  // memory (its arena), and a stretch of a gene (up to 20,000 outputs and the context) is far wider
  // than the cones of its early stages, so each stage runs the reference in pieces about as wide as
  // its widest batch of cones; at least the context and 2,048 outputs, so that the reference of one
  // variant scored at up to distance 1,000 still runs whole (each piece recomputes 2 x reach inputs).
  const widest = net.reach.map((_, k) =>
    Math.max(0, ...[...groups.values()].map((group) => Math.min(batchSize, group.length) * (group[0].plan.inputs[k][1] - group[0].plan.inputs[k][0] + 1))),
  );
  const floor = 2 * extent[stages] + 2048;
  const pieces = <T>(k: number, length: number, run: (from: number, length: number) => Promise<T>) => inPieces(length, net.reach[k], widest[k], floor, run);
  const states: StageTensor[] = [];
  states[1] = joinLengths(
    await pieces(0, reference.length, (from, length) => net.runFirst({ codes: reference.subarray(from, from + length), batch: 1, length })),
  );
  for (let k = 1; k < stages - 1; k++) {
    const input = states[k];
    states[k + 1] = joinLengths(await pieces(k, input.length, (from, length) => net.runMiddle(k, lengthSlice(input, from, length))));
  }
  const last = states[stages - 1];
  const referenceRows = joinRows(await pieces(stages - 1, last.length, (from, length) => net.runLast(lengthSlice(last, from, length))));
  let done = 0;
  for (const group of groups.values()) {
    for (let first = 0; first < group.length; first += batchSize) {
      const batch = group.slice(first, first + batchSize);
      const width = batch[0].plan.inputs[0][1] - batch[0].plan.inputs[0][0] + 1;
      const codes = new Uint8Array(batch.length * width);
      batch.forEach(({ job, plan }, b) => {
        const [lo, hi] = plan.inputs[0];
        const end = job.changeStart + job.alt.length; // first alternate position after the change
        const row = codes.subarray(b * width, (b + 1) * width);
        if (lo < job.changeStart) row.set(reference.subarray(lo, Math.min(job.changeStart, hi + 1)));
        for (let p = Math.max(lo, job.changeStart); p < Math.min(end, hi + 1); p++) row[p - lo] = job.alt[p - job.changeStart];
        if (hi >= end) {
          const from = Math.max(lo, end);
          row.set(reference.subarray(from + plan.shift, hi + 1 + plan.shift), from - lo);
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

/**
 * One stage of the reference (batch 1) in equal pieces of at most `max(widest - 2 * reach, 16 *
 * reach, floor)` outputs, each call given the `2 * reach` inputs around its piece: the outputs are
 * those of one call, since an output sees only its own inputs. `run(from, length)` runs those inputs.
 */
async function inPieces<T>(inputLength: number, reach: number, widest: number, floor: number, run: (from: number, length: number) => Promise<T>): Promise<T[]> {
  const total = inputLength - 2 * reach;
  if (total <= 0) return [await run(0, inputLength)]; // too short: the network says so
  const count = Math.ceil(total / Math.max(widest - 2 * reach, 16 * reach, floor));
  const piece = Math.ceil(total / count);
  const parts: T[] = [];
  for (let from = 0; from < total; from += piece) parts.push(await run(from, Math.min(piece, total - from) + 2 * reach));
  return parts;
}

/** Positions `from .. from + length - 1` of a batch-1 state. */
function lengthSlice(state: StageTensor, from: number, length: number): StageTensor {
  if (from === 0 && length === state.length) return state;
  const data = new Float32Array(state.channels * length);
  for (let c = 0; c < state.channels; c++) data.set(state.data.subarray(c * state.length + from, c * state.length + from + length), c * length);
  return { data, batch: 1, channels: state.channels, length };
}

/** Batch-1 states of equal channels, one after another along the length. */
function joinLengths(parts: readonly StageTensor[]): StageTensor {
  if (parts.length === 1) return parts[0];
  const { channels } = parts[0];
  const length = parts.reduce((sum, p) => sum + p.length, 0);
  const data = new Float32Array(channels * length);
  let at = 0;
  for (const p of parts) {
    for (let c = 0; c < channels; c++) data.set(p.data.subarray(c * p.length, (c + 1) * p.length), c * length + at);
    at += p.length;
  }
  return { data, batch: 1, channels, length };
}

/** Row blocks one after another. */
function joinRows(parts: readonly Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The wanted outputs must see the change (else they are reference rows, and no cone is needed), and
 * every reference position they read, on either side of it, must be inside the reference.
 */
function checkJob(job: ConeJob, length: number, half: number): void {
  const replaced = job.replaced ?? job.alt.length;
  const { changeStart: start, outputStart: first, outputCount: count } = job;
  const last = first + count - 1;
  const end = start + job.alt.length; // first alternate position after the change
  const where = `a change of ${replaced} position(s) at ${start} into ${job.alt.length}, with outputs ${first}..${last}`;
  if (!Number.isInteger(replaced) || replaced < 0 || !Number.isInteger(count) || count < 1 || start < 0 || start + replaced > length) {
    throw new InvalidArgumentError(`${where}: the change must lie in the reference (${length} nt) and at least one output be wanted`);
  }
  if (start > last + half || end - 1 < first - half) {
    throw new InvalidArgumentError(`${where}: the outputs do not see the change (they read ${half} positions on each side); they are the reference's rows`);
  }
  // The reference position an alternate one reads: itself left of the change, shifted right of it.
  const read = (p: number, inside: number) => (p < start ? p : p >= end ? p + replaced - job.alt.length : inside);
  const left = read(first - half, start);
  const right = read(last + half, start + replaced - 1);
  if (left < 0 || right > length - 1) {
    throw new InvalidArgumentError(`${where}: the outputs read reference positions ${left}..${right}, outside the reference's 0..${length - 1}`);
  }
}

interface ConePlan {
  /** Input span of each stage (alternate positions), stage 0 first. */
  inputs: Span[];
  /** Span each stage's output is computed on; `changes[k]` is boundary k + 1. */
  changes: Span[];
  /** Reference position minus alternate position right of the change: `replaced - alt.length`. */
  shift: number;
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
  return { inputs, changes, shift: (job.replaced ?? job.alt.length) - job.alt.length };
}

/**
 * Stage k's input for each job: the reference state over the stage's input span (shifted right of
 * the change), with the part the change reached (computed by stage k - 1, in `changed`) written over it.
 */
function splice(reference: StageTensor, lost: number, changed: StageTensor, plans: readonly ConePlan[], k: number): StageTensor {
  const [lo, hi] = plans[0].inputs[k];
  const length = hi - lo + 1;
  const channels = reference.channels;
  const data = new Float32Array(plans.length * channels * length);
  plans.forEach((plan, b) => {
    const [from] = plan.inputs[k];
    const to = from + length - 1;
    // The changed span lies inside the input span (planCone): left of it the reference, right of it the shifted reference.
    const [cLo, cHi] = plan.changes[k - 1];
    for (let c = 0; c < channels; c++) {
      const row = (b * channels + c) * length;
      const refRow = c * reference.length - lost;
      if (cLo > from) data.set(reference.data.subarray(refRow + from, refRow + cLo), row);
      const changedRow = (b * channels + c) * changed.length;
      data.set(changed.data.subarray(changedRow, changedRow + cHi - cLo + 1), row + (cLo - from));
      if (cHi < to) data.set(reference.data.subarray(refRow + cHi + 1 + plan.shift, refRow + to + 1 + plan.shift), row + (cHi + 1 - from));
    }
  });
  return { data, batch: plans.length, channels, length };
}
