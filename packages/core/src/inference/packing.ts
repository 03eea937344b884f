import type { LoadedModel } from '../adapter/contract.js';
import { InvalidArgumentError } from '../errors.js';
import { CONE_CHUNK, MIN_CONE_RUN, predictIsolatedCones, takesCone } from './isolated-cones.js';
import type { CodeSource } from './tiling.js';

/** How much longer (in input length) a short job's tile may be when it shares a batch. */
const SHARE_LIMIT = 1.5;

/** One sequence to tile: `outputLength` positions whose padded inputs come from `source`. */
export interface PackJob<T> {
  tag: T;
  outputLength: number;
  /** Padded coordinates: position 0 is context/2 before the first output (see `CodeSource`). */
  source: CodeSource;
  /**
   * The source is N beyond both ends (a raw sequence or a whole record: no real flanks). Short
   * isolated jobs run as cones on an all-N reference (`predictIsolatedCones`) where the model has
   * stages, else share tiles, side by side with context/2 N between them (`groupIsolatedJobs`).
   */
  isolated?: boolean;
}

/** Rows of one job, in order; `done` marks its last rows (a job of length 0 yields only that). */
export interface PackedChunk<T> {
  tag: T;
  offset: number;
  length: number;
  /** `(length, tracks)` row-major (the model's tracks); a view valid until the generator resumes. */
  probabilities: Float32Array;
  done: boolean;
}

export interface PackingOptions {
  /** Most output positions per tile. */
  tileSize: number;
  /** Most tiles per `predict` call. */
  batchSize: number;
  /**
   * Short isolated jobs run as cones on an all-N reference where the model has stages (default
   * true; see `predictIsolatedCones`); false packs them in shared tiles. The rows are the same.
   */
  cones?: boolean;
}

/**
 * The tile length for a short sequence: the full tile, or its length rounded up to a step of a
 * tenth of the context, so that records of similar length share a tile length (and so a
 * `predict` call) while the padding wastes at most ~10% of the work, which context dominates.
 */
export function tileLengthFor(outputLength: number, context: number, tileSize: number): number {
  const step = Math.max(32, Math.ceil(context / 10));
  return Math.min(tileSize, Math.ceil(outputLength / step) * step);
}

/**
 * The output lengths of a sequence's tiles, in order. One that fits a tile gets one (of
 * `tileLengthFor`, so short records share batches). A longer one runs in whole batches of
 * `tileSize` tiles, then what is left in one batch of equal smaller tiles, at least two: a batch
 * of one tile runs on one core (onnxruntime splits a convolution over the batch), and shrinking
 * every tile to fill the batches instead would make the peak memory of a 100 kb input smaller
 * than a chromosome's. The numbers do not depend on the tiles.
 */
export function tileLengths(outputLength: number, context: number, tileSize: number, batchSize: number): number[] {
  if (outputLength <= tileSize) return [tileLengthFor(outputLength, context, tileSize)];
  const full = Math.floor(outputLength / (tileSize * batchSize)) * batchSize;
  const lengths = Array<number>(full).fill(tileSize);
  const rest = outputLength - full * tileSize;
  if (rest > 0) {
    const count = Math.min(batchSize, Math.max(2, Math.ceil(rest / tileSize)));
    const tile = tileLengthFor(Math.ceil(rest / count), context, tileSize);
    lengths.push(...Array<number>(Math.ceil(rest / tile)).fill(tile));
  }
  return lengths;
}

/**
 * Runs a model over many sequences, packing tiles of equal length from consecutive sequences into
 * one `predict` call (many short records cost a few calls, not one each), and yields each job's
 * rows in job order, so a writer can stream them. Holds one batch of tiles at a time: memory does
 * not grow with the sequences' lengths. Jobs are pulled lazily, one ahead of the batch. Short
 * isolated jobs run as cones instead where the model has stages (`PackingOptions.cones`): each
 * run of consecutive such jobs, up to CONE_CHUNK and from MIN_CONE_RUN, once the tiles before it
 * are done.
 */
export async function* predictPacked<T>(
  model: LoadedModel,
  jobs: Iterable<PackJob<T>> | AsyncIterable<PackJob<T>>,
  options: PackingOptions,
): AsyncGenerator<PackedChunk<T>> {
  const { tileSize, batchSize } = options;
  if (!Number.isInteger(tileSize) || tileSize < 1) throw new InvalidArgumentError(`tileSize must be a positive integer, got ${tileSize}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidArgumentError(`batchSize must be a positive integer, got ${batchSize}`);
  const packed = (run: Iterable<PackJob<T>> | AsyncIterable<PackJob<T>>) => predictGrouped(model, run, options);
  if (options.cones === false) {
    yield* packed(jobs);
    return;
  }
  // `model.stages` builds stage graphs and opens their sessions on first use: read it only for a
  // run of cones long enough to pay for that (MIN_CONE_RUN).
  let net: LoadedModel['stages'];
  let stagesRead = false;
  const eligible = (job: PackJob<T>) => takesCone(job, model.context);
  const iterator = Symbol.asyncIterator in jobs ? jobs[Symbol.asyncIterator]() : jobs[Symbol.iterator]();
  try {
    let next = await iterator.next();
    /** Short isolated jobs read ahead, in order. */
    let ahead: PackJob<T>[] = [];
    // Whether a run of cones waits in `ahead`: MIN_CONE_RUN consecutive short isolated jobs, and stages.
    const coneRunAhead = async (): Promise<boolean> => {
      while (!next.done && eligible(next.value) && ahead.length < MIN_CONE_RUN) {
        ahead.push(next.value);
        next = await iterator.next();
      }
      if (ahead.length < MIN_CONE_RUN) return false;
      if (!stagesRead) {
        net = model.stages;
        stagesRead = true;
      }
      return net !== undefined;
    };
    // Jobs for tiles, in order, up to a run of cones; shorter runs of short jobs share the tiles.
    async function* tiled(): AsyncGenerator<PackJob<T>> {
      while (!(await coneRunAhead())) {
        yield* ahead;
        ahead = [];
        if (next.done) return;
        if (!eligible(next.value)) {
          yield next.value;
          next = await iterator.next();
        }
      }
    }
    while (!next.done || ahead.length > 0) {
      yield* packed(tiled());
      if (ahead.length < MIN_CONE_RUN) continue;
      while (!next.done && ahead.length < CONE_CHUNK && eligible(next.value)) {
        ahead.push(next.value);
        next = await iterator.next();
      }
      const run = ahead;
      ahead = [];
      yield* predictIsolatedCones(net!, model.context, model.tracks.length, run, batchSize);
    }
  } finally {
    await iterator.return?.();
  }
}

/** predictPacked without cones: short isolated jobs share tiles (`groupIsolatedJobs`). */
async function* predictGrouped<T>(
  model: LoadedModel,
  jobs: Iterable<PackJob<T>> | AsyncIterable<PackJob<T>>,
  options: PackingOptions,
): AsyncGenerator<PackedChunk<T>> {
  for await (const chunk of predictTiles(model, groupIsolatedJobs(jobs, model.context / 2, options.tileSize), options)) {
    yield* ungroup(chunk, model.tracks.length);
  }
}

/** Jobs sharing one tile: member i's outputs are the group's `[offsets[i], offsets[i] + length)`. */
interface JobGroup<T> {
  members: PackJob<T>[];
  offsets: number[];
}

/**
 * Packs consecutive short isolated jobs into one job each tile can hold: their inputs side by side
 * with `gap` (context/2) N between neighbours, which is exactly the N padding each would get alone,
 * so every output sees what it would see alone (an output depends only on inputs within context/2
 * of it). A 400-nt record then costs 400 + context/2 inputs instead of a tile of its own plus the
 * whole context. Other jobs pass through as groups of one.
 */
export async function* groupIsolatedJobs<T>(
  jobs: Iterable<PackJob<T>> | AsyncIterable<PackJob<T>>,
  gap: number,
  tileSize: number,
): AsyncGenerator<PackJob<JobGroup<T>>> {
  let open: JobGroup<T> | undefined;
  let end = 0;
  const close = (): PackJob<JobGroup<T>> => {
    const group = open!;
    open = undefined;
    if (group.members.length === 1) return { ...group.members[0], tag: group };
    return { tag: group, outputLength: end, source: groupSource(group, gap) };
  };
  for await (const job of jobs) {
    const short = job.isolated === true && job.outputLength > 0 && job.outputLength <= tileSize / 2;
    if (open && (!short || end + gap + job.outputLength > tileSize)) yield close();
    if (!short) {
      yield { ...job, tag: { members: [job], offsets: [0] } };
      continue;
    }
    if (!open) {
      open = { members: [job], offsets: [0] };
      end = job.outputLength;
    } else {
      open.members.push(job);
      open.offsets.push(end + gap);
      end += gap + job.outputLength;
    }
  }
  if (open) yield close();
}

/** The padded codes of a group: each member's own bases at its offset, N between and around. */
function groupSource<T>(group: JobGroup<T>, gap: number): CodeSource {
  const half = gap;
  return async (start, end) => {
    const out = new Uint8Array(end - start);
    for (let i = 0; i < group.members.length; i++) {
      const member = group.members[i];
      // The member's bases in the group's padded coordinates, clipped to the range asked for.
      const lo = Math.max(start, group.offsets[i] + half);
      const hi = Math.min(end, group.offsets[i] + half + member.outputLength);
      if (hi <= lo) continue;
      out.set(await member.source(lo - group.offsets[i], hi - group.offsets[i]), lo - start);
    }
    return out;
  };
}

/** A group's rows handed back to its members, in order (the N between them dropped). */
function* ungroup<T>(chunk: PackedChunk<JobGroup<T>>, width: number): Generator<PackedChunk<T>> {
  const { members, offsets } = chunk.tag;
  if (members.length === 1) {
    yield { ...chunk, tag: members[0].tag };
    return;
  }
  for (let i = 0; i < members.length; i++) {
    const from = Math.max(chunk.offset, offsets[i]);
    const to = Math.min(chunk.offset + chunk.length, offsets[i] + members[i].outputLength);
    if (to <= from) continue;
    const begin = (from - chunk.offset) * width;
    yield {
      tag: members[i].tag,
      offset: from - offsets[i],
      length: to - from,
      probabilities: chunk.probabilities.subarray(begin, begin + (to - from) * width),
      done: to === offsets[i] + members[i].outputLength,
    };
  }
}

/** predictPacked without grouping: every job has tiles of its own (options checked by predictPacked). */
async function* predictTiles<T>(
  model: LoadedModel,
  jobs: Iterable<PackJob<T>> | AsyncIterable<PackJob<T>>,
  options: PackingOptions,
): AsyncGenerator<PackedChunk<T>> {
  const { tileSize, batchSize } = options;
  const context = model.context;
  const width = model.tracks.length;
  interface Tile {
    job: PackJob<T>;
    /** The tile's first output in its job. */
    start: number;
    last: boolean;
  }
  let pending: Tile[] = [];
  let pendingTile = 0;

  async function* flush(): AsyncGenerator<PackedChunk<T>> {
    if (pending.length === 0) return;
    const tiles = pending;
    const tile = pendingTile;
    pending = [];
    const inputLength = tile + context;
    const codes = new Uint8Array(tiles.length * inputLength);
    for (let t = 0; t < tiles.length; t++) {
      const start = tiles[t].start;
      const read = await tiles[t].job.source(start, start + inputLength);
      if (read.length !== inputLength) throw new Error(`a code source returned ${read.length} codes for ${inputLength}`);
      codes.set(read, t * inputLength);
    }
    const out = await model.predict({ codes, batch: tiles.length, length: inputLength });
    if (out.length !== tiles.length * tile * width) {
      throw new InvalidArgumentError(
        `the model returned ${out.length} values for ${tiles.length} tiles of ${tile} positions x ${width} tracks (${model.tracks.map((t) => t.name).join(', ')})`,
        {
          hint: 'the adapter declares other tracks than it predicts: run the conformance kit against it',
        },
      );
    }
    // Consecutive tiles of one job are consecutive rows of `out`: hand them over as one chunk.
    for (let first = 0; first < tiles.length;) {
      const job = tiles[first].job;
      let next = first + 1;
      while (next < tiles.length && tiles[next].job === job) next++;
      const offset = tiles[first].start;
      const length = Math.min((next - first) * tile, job.outputLength - offset);
      const begin = first * tile * width;
      yield { tag: job.tag, offset, length, probabilities: out.subarray(begin, begin + length * width), done: tiles[next - 1].last };
      first = next;
    }
  }

  // A short job (one tile) may join a batch of another tile length when the padding stays within
  // SHARE_LIMIT of its own work; a batch of short jobs may grow its tile for a newcomer likewise.
  let singlesOnly = true;
  let smallestNeed = 0;
  const fits = (need: number) =>
    need <= pendingTile ? pendingTile + context <= SHARE_LIMIT * (need + context) : singlesOnly && need + context <= SHARE_LIMIT * (smallestNeed + context);

  for await (const job of jobs) {
    if (job.outputLength <= 0) {
      yield* flush();
      yield { tag: job.tag, offset: 0, length: 0, probabilities: new Float32Array(0), done: true };
      continue;
    }
    const lengths = tileLengths(job.outputLength, context, tileSize, batchSize);
    const count = lengths.length;
    if (count === 1 && pending.length > 0 && pending.length < batchSize && fits(lengths[0])) {
      pendingTile = Math.max(pendingTile, lengths[0]);
      smallestNeed = Math.min(smallestNeed, lengths[0]);
      pending.push({ job, start: 0, last: true });
      continue;
    }
    let start = 0;
    for (const [index, need] of lengths.entries()) {
      if (pending.length > 0 && (pendingTile !== need || pending.length >= batchSize)) yield* flush();
      if (pending.length === 0) {
        singlesOnly = true;
        smallestNeed = need;
      }
      pendingTile = need;
      if (count > 1) singlesOnly = false;
      pending.push({ job, start, last: index === count - 1 });
      start += need;
    }
  }
  yield* flush();
}
