import { describe, expect, it } from 'vitest';
import { type ConeJob, runCones, type StagedNetwork } from '../src/index.js';
import { mockStagedModel } from '../src/testing/mock-adapter.js';

// A long reference runs through each stage in pieces (each stage session keeps its peak working
// memory): the rows must be those of one call, and no piece wider than the rule allows.

describe('runCones: the reference in pieces', () => {
  const reach = [3, 10, 4, 23];
  const model = mockStagedModel(reach);
  const half = model.context / 2;
  let seed = 11;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const reference = Uint8Array.from({ length: 10_000 }, () => 1 + Math.floor(next() * 4));

  /** The stages with every call's stage and input length recorded, in order. */
  function recording(stages: StagedNetwork) {
    const calls: { stage: number; batch: number; length: number }[] = [];
    const net: StagedNetwork = {
      reach: stages.reach,
      channels: stages.channels,
      runFirst: (batch) => (calls.push({ stage: 0, batch: batch.batch, length: batch.length }), stages.runFirst(batch)),
      runMiddle: (k, state) => (calls.push({ stage: k, batch: state.batch, length: state.length }), stages.runMiddle(k, state)),
      runLast: (state) => (calls.push({ stage: reach.length - 1, batch: state.batch, length: state.length }), stages.runLast(state)),
    };
    return { net, calls };
  }

  it("gives one call's rows, each stage in pieces no wider than its widest cones, 16 reaches or the context and 2,048", async () => {
    const positions = [half + 6, 2_000, 5_000, 5_003, 9_000];
    const jobs: ConeJob[] = positions.map((p) => ({ changeStart: p, alt: Uint8Array.of(1 + (reference[p] % 4)), outputStart: p - 6, outputCount: 13 }));
    const { net, calls } = recording(model.stages!);
    const rows = await runCones(net, reference, jobs, 2);

    expect(Array.from(rows)).toEqual(Array.from(await model.predict({ codes: reference, batch: 1, length: reference.length })));
    for (const job of jobs) {
      const alt = reference.slice();
      alt.set(job.alt, job.changeStart);
      const whole = await model.predict({ codes: alt, batch: 1, length: alt.length });
      const want = whole.slice((job.outputStart - half) * 3, (job.outputStart - half + job.outputCount) * 3);
      expect(Math.max(...job.output!.map((v, i) => Math.abs(v - want[i])))).toBeLessThan(1e-6);
    }

    // The reference's calls come first, up to the first cone's stage 0.
    const firstCone = calls.findIndex((c, i) => i > 0 && c.stage === 0 && calls[i - 1].stage === reach.length - 1);
    const referenceCalls = calls.slice(0, firstCone);
    const coneCalls = calls.slice(firstCone);
    let length = reference.length;
    for (const [k, r] of reach.entries()) {
      const pieces = referenceCalls.filter((c) => c.stage === k);
      const widest = Math.max(...coneCalls.filter((c) => c.stage === k).map((c) => c.batch * c.length));
      const most = Math.max(widest - 2 * r, 16 * r, model.context + 2048);
      // The pieces cover the stage's outputs exactly once, in about equal parts.
      expect(pieces.reduce((sum, c) => sum + c.length - 2 * r, 0)).toBe(length - 2 * r);
      expect(pieces.length).toBe(Math.ceil((length - 2 * r) / most));
      for (const c of pieces) expect(c.length - 2 * r).toBeLessThanOrEqual(most);
      length -= 2 * r;
    }
    expect(referenceCalls.filter((c) => c.stage === 0).length).toBeGreaterThan(3);
  });

  it('runs a reference shorter than a piece in one call per stage', async () => {
    const short = reference.subarray(0, model.context + 500);
    const { net, calls } = recording(model.stages!);
    await runCones(net, short, [{ changeStart: 300, alt: Uint8Array.of(1 + (short[300] % 4)), outputStart: 298, outputCount: 5 }], 2);
    expect(calls.slice(0, reach.length).map((c) => [c.stage, c.length])).toEqual(
      reach.map((_, k) => [k, short.length - 2 * reach.slice(0, k).reduce((a, b) => a + b, 0)]),
    );
  });
});
