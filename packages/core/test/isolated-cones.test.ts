import { describe, expect, it } from 'vitest';
import { encodeSequence, type LoadedModel, type PackJob, predictPacked, type PackingOptions, type StagedNetwork } from '../src/index.js';
import { CONE_CHUNK, CONE_LENGTH_FRACTION, MIN_CONE_RUN } from '../src/inference/isolated-cones.js';
import { mockStagedModel } from '../src/testing/mock-adapter.js';
import { randomSequence } from '../src/testing/sequences.js';

// Short isolated jobs (N beyond both ends) run as cones on an all-N reference where the model has
// stages: every row must equal the packed tiles' row, in job order, mixed with jobs that keep tiles.

/** The model with its stage calls counted (`predict` calls too). */
function counting(model: LoadedModel): LoadedModel & { stageCalls: number; predictCalls: number } {
  const stages = model.stages!;
  const counted: StagedNetwork = {
    reach: stages.reach,
    channels: stages.channels,
    runFirst: (batch) => (wrapped.stageCalls++, stages.runFirst(batch)),
    runMiddle: (k, state) => (wrapped.stageCalls++, stages.runMiddle(k, state)),
    runLast: (state) => (wrapped.stageCalls++, stages.runLast(state)),
  };
  const wrapped = {
    ...model,
    stages: counted,
    stageCalls: 0,
    predictCalls: 0,
    predict: (batch: Parameters<LoadedModel['predict']>[0]) => (wrapped.predictCalls++, model.predict(batch)),
  };
  return wrapped;
}

/** A job over codes with N beyond both ends (isolated) or over a longer sequence's real flanks. */
function job(tag: number, codes: Uint8Array, half: number, isolated = true): PackJob<number> {
  const flank = isolated ? 0 : half;
  const outputLength = codes.length - 2 * flank;
  return {
    tag,
    outputLength,
    isolated,
    source: (start, end) => {
      const out = new Uint8Array(end - start);
      for (let p = start; p < end; p++) {
        const q = p - half + flank;
        if (q >= 0 && q < codes.length) out[p - start] = codes[q];
      }
      return out;
    },
  };
}

async function rowsOf(model: LoadedModel, jobs: Iterable<PackJob<number>> | AsyncIterable<PackJob<number>>, options: PackingOptions) {
  const rows = new Map<number, number[]>();
  const order: number[] = [];
  for await (const c of predictPacked(model, jobs, options)) {
    const got = rows.get(c.tag) ?? [];
    expect(c.offset, `job ${c.tag}`).toBe(got.length / 3);
    expect(c.probabilities.length).toBe(c.length * 3);
    rows.set(c.tag, got.concat(Array.from(c.probabilities)));
    if (c.done) order.push(c.tag);
  }
  return { rows, order };
}

const reach = [60, 90, 150];
const context = 2 * (60 + 90 + 150);
const limit = CONE_LENGTH_FRACTION * context;

describe('short isolated records as cones', () => {
  it('gives the rows of packed tiles, in job order, with long records and regions between them', async () => {
    // A run of MIN_CONE_RUN + 2 short records, then short runs (tiles) between longer records.
    const lengths = [1, 7, 120, limit - 1, 2, 9, 50, 3, 11, 4, limit, limit + 1, 2000, 0, 33, 5, limit, 900];
    expect(MIN_CONE_RUN + 2).toBe(10);
    const jobs = lengths.map((n, i) => job(i, encodeSequence(randomSequence(n, i + 1)), context / 2));
    // A region with real flanks (never a cone) in the middle and at the end.
    jobs.splice(10, 0, job(100, encodeSequence(randomSequence(300 + context, 9)), context / 2, false));
    jobs.push(job(101, encodeSequence(randomSequence(40 + context, 10)), context / 2, false));
    const options = { tileSize: 1500, batchSize: 3 };
    const packed = counting(mockStagedModel(reach, 3, 5));
    const tiles = await rowsOf(packed, jobs, { ...options, cones: false });
    expect(packed.stageCalls).toBe(0);
    const coned = counting(mockStagedModel(reach, 3, 5));
    const cones = await rowsOf(coned, jobs, options);
    expect(cones.order).toEqual(jobs.map((j) => j.tag));
    expect(tiles.order).toEqual(cones.order);
    for (const j of jobs) {
      const a = cones.rows.get(j.tag) ?? [];
      const b = tiles.rows.get(j.tag) ?? [];
      expect(a.length, `job ${j.tag}`).toBe(j.outputLength * 3);
      expect(Math.max(0, ...a.map((v, i) => Math.abs(v - b[i]))), `job ${j.tag}`).toBeLessThan(1e-6);
    }
    expect(coned.stageCalls).toBeGreaterThan(0);
    // The run of short records alone takes no tile at all.
    const alone = counting(mockStagedModel(reach, 3, 5));
    await rowsOf(alone, jobs.slice(0, 10), options);
    expect(alone.predictCalls).toBe(0);
    expect(alone.stageCalls).toBeGreaterThan(0);
  });

  it('runs fewer than MIN_CONE_RUN consecutive short records in tiles, without building the stages', async () => {
    const staged = mockStagedModel(reach, 3, 5);
    let reads = 0;
    const model: LoadedModel = { ...staged, predict: (b) => staged.predict(b) };
    Object.defineProperty(model, 'stages', { get: () => (reads++, staged.stages) });
    const jobs = Array.from({ length: MIN_CONE_RUN - 1 }, (_, i) => job(i, encodeSequence(randomSequence(40 + i, i + 1)), context / 2));
    const few = await rowsOf(model, jobs, { tileSize: 1500, batchSize: 3 });
    expect(few.order).toEqual(jobs.map((j) => j.tag));
    expect(reads).toBe(0);
    const more = [...jobs, job(MIN_CONE_RUN - 1, encodeSequence(randomSequence(40, 99)), context / 2)];
    await rowsOf(model, more, { tileSize: 1500, batchSize: 3 });
    expect(reads).toBeGreaterThan(0);
  });

  it('leaves records above the limit, and models without stages, to packed tiles', async () => {
    const model = counting(mockStagedModel(reach, 3, 5));
    const jobs = [limit + 1, 2 * limit].map((n, i) => job(i, encodeSequence(randomSequence(n, i + 3)), context / 2));
    await rowsOf(model, jobs, { tileSize: 1500, batchSize: 3 });
    expect(model.stageCalls).toBe(0);
    expect(model.predictCalls).toBeGreaterThan(0);
    const plain = { ...mockStagedModel(reach, 3, 5), stages: undefined };
    const short = [job(0, encodeSequence('ACGTN'), context / 2)];
    expect((await rowsOf(plain, short, { tileSize: 1500, batchSize: 3 })).rows.get(0)).toEqual(
      (await rowsOf(mockStagedModel(reach, 3, 5), short, { tileSize: 1500, batchSize: 3 })).rows.get(0)!.map((v) => expect.closeTo(v, 6)),
    );
  });

  it('streams runs longer than a chunk in order and pulls jobs lazily, closing the source when stopped', async () => {
    const small = [2, 3, 1];
    const half = 6;
    const count = CONE_CHUNK + 40;
    const sequences = Array.from({ length: count }, (_, i) => encodeSequence(randomSequence(1 + (i % 6), i + 1)));
    let pulled = 0;
    let closed = false;
    async function* source(): AsyncGenerator<PackJob<number>> {
      try {
        for (const [i, codes] of sequences.entries()) {
          pulled++;
          yield job(i, codes, half);
        }
      } finally {
        closed = true;
      }
    }
    const model = counting(mockStagedModel(small, 3, 2));
    const { order, rows } = await rowsOf(model, source(), { tileSize: 100, batchSize: 4 });
    expect(order).toEqual(sequences.map((_, i) => i));
    const tiles = await rowsOf(
      mockStagedModel(small, 3, 2),
      sequences.map((codes, i) => job(i, codes, half)),
      { tileSize: 100, batchSize: 4, cones: false },
    );
    for (const [i] of sequences.entries()) {
      const b = tiles.rows.get(i)!;
      expect(Math.max(...rows.get(i)!.map((v, k) => Math.abs(v - b[k]))), `job ${i}`).toBeLessThan(1e-6);
    }
    expect(model.predictCalls).toBe(0);

    // Stopped after the first row: one chunk of jobs pulled (and one ahead), and the source closed.
    pulled = 0;
    closed = false;
    for await (const c of predictPacked(model, source(), { tileSize: 100, batchSize: 4 })) {
      expect(c.tag).toBe(0);
      break;
    }
    expect(pulled).toBe(CONE_CHUNK + 1);
    expect(closed).toBe(true);
  });
});
