import { describe, expect, it } from 'vitest';
import {
  createEnsemble,
  encodeSequence,
  type LoadedModel,
  type PredictBatch,
  predictCodes,
  reverseComplement,
  reverseComplementCodes,
  oneHotChannelsFirst,
  oneHotChannelsLast,
} from '../src/index.js';
import { tileLengths } from '../src/inference/packing.js';
import { mockModel, mockScore, mockStagedModel } from '../src/testing/mock-adapter.js';
import { randomSequence } from '../src/testing/sequences.js';

describe('encoding', () => {
  it('upper-cases and maps every non-ACGT symbol to N', () => {
    expect([...encodeSequence('ACGTacgtNnRYKM-*é')]).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('reverse-complements strings and codes alike', () => {
    expect(reverseComplement('AACGTN')).toBe('NACGTT');
    expect([...reverseComplementCodes(encodeSequence('AACGTN'))]).toEqual([...encodeSequence('NACGTT')]);
  });
  it('one-hot encodes channels-first and channels-last', () => {
    const codes = encodeSequence('ACN');
    expect([...oneHotChannelsFirst(codes, 1, 3)]).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect([...oneHotChannelsLast(codes, 1, 3)]).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  });
});

describe('tiling', () => {
  const context = 80;
  const model = mockModel(context);
  const expectMatchesDirect = (codes: Uint8Array, out: Float32Array) => {
    expect(out.length).toBe(codes.length * 3);
    for (let i = 0; i < codes.length; i++) {
      const s = mockScore(codes, i, context);
      for (let c = 0; c < 3; c++) expect(out[i * 3 + c]).toBeCloseTo(s[c], 6);
    }
  };
  for (const n of [1, 50, 4999, 5000, 5001, 12_345]) {
    it(`gives every position of a ${n}-nt input its own window`, async () => {
      const codes = encodeSequence(randomSequence(n, n));
      expectMatchesDirect(codes, await predictCodes(model, codes));
    });
  }
  it('gives the same numbers for any tile and batch size', async () => {
    const codes = encodeSequence(randomSequence(3001, 3));
    const reference = await predictCodes(model, codes);
    for (const [tileSize, batchSize] of [
      [7, 1],
      [100, 3],
      [40_000, 2],
    ]) {
      expect(await predictCodes(model, codes, { tileSize, batchSize })).toEqual(reference);
    }
  });

  it('runs whole batches of full tiles, then the rest as one batch of equal tiles', async () => {
    const repeat = (n: number, v: number) => Array<number>(n).fill(v);
    expect(tileLengths(1_000_000, 10_000, 40_000, 2)).toEqual([...repeat(24, 40_000), 20_000, 20_000]);
    expect(tileLengths(110_000, 10_000, 40_000, 2)).toEqual([40_000, 40_000, 15_000, 15_000]);
    expect(tileLengths(50_000, 10_000, 40_000, 2)).toEqual([25_000, 25_000]); // 2 cores, not 1 tile and a padded one
    expect(tileLengths(160_000, 10_000, 40_000, 2)).toEqual(repeat(4, 40_000));
    expect(tileLengths(30_000, 10_000, 40_000, 2)).toEqual([30_000]); // one tile, to share a batch with other records
    expect(tileLengths(1_000, 10_000, 40_000, 2)).toEqual([1_000]);
    expect(tileLengths(130_001, 10_000, 40_000, 4)).toEqual(repeat(4, 33_000));
    expect(tileLengths(170_001, 10_000, 40_000, 4)).toEqual([...repeat(4, 40_000), 6_000, 6_000]); // 10,001 left: two tiles, rounded to a tenth of the context
    const calls: number[] = [];
    const counted = { ...model, predict: async (b: PredictBatch) => (calls.push(b.batch), model.predict(b)) };
    const codes = encodeSequence(randomSequence(1000, 5));
    expectMatchesDirect(codes, await predictCodes(counted, codes, { tileSize: 400, batchSize: 2 })); // 2 x 400, then 2 x 100
    expect(calls).toEqual([2, 2]);
  });
});

describe('ensemble', () => {
  it('averages members in float32 and passes their tracks through, never reordering', async () => {
    const codes = encodeSequence(randomSequence(40, 9));
    const a = mockModel(8, 0);
    const b = mockModel(8, 0.1);
    const mean = await predictCodes(createEnsemble([a, b]), codes);
    const one = await predictCodes(a, codes);
    for (let i = 0; i < one.length; i += 3) {
      expect(mean[i]).toBeCloseTo(one[i] - 0.05, 6);
      expect(mean[i + 1]).toBeCloseTo(one[i + 1] + 0.05, 6);
    }
    expect(createEnsemble([a, b]).tracks.map((t) => t.name)).toEqual(['neither', 'acceptor', 'donor']);
    // A joint model (one member) is itself: no copy, no reordering.
    expect(createEnsemble([a])).toBe(a);
    // Members in another order are not silently averaged across tracks.
    const swapped = { ...b, tracks: [b.tracks[0], b.tracks[2], b.tracks[1]] };
    expect(() => createEnsemble([a, swapped])).toThrow(/disagree on tracks: neither,acceptor,donor and neither,donor,acceptor/);
    expect(() => createEnsemble([a, mockModel(4)])).toThrow(/disagree on context/);
    expect(() => createEnsemble([{ ...a, tracks: [] }])).toThrow(/declares no tracks/);
    expect(() => createEnsemble([{ ...a, tracks: [{ name: 'x', kind: 'odds' as never }] }])).toThrow(/kind "odds"/);
  });

  it('stacks staged members: states side by side, the mean at the end', async () => {
    const members = [mockStagedModel([2, 3, 1], 3, 1), mockStagedModel([2, 3, 1], 2, 2)];
    const ensemble = createEnsemble(members);
    const stages = ensemble.stages!;
    expect(stages.reach).toEqual([2, 3, 1]);
    expect(stages.channels).toEqual([5, 5]);
    const length = 30;
    const codes = encodeSequence(randomSequence(2 * length, 4));
    let state = await stages.runFirst({ codes, batch: 2, length });
    state = await stages.runMiddle(1, state);
    const chained = await stages.runLast(state);
    const whole = await ensemble.predict({ codes, batch: 2, length });
    expect(Array.from(chained)).toEqual(Array.from(whole));
    // A member without stages, or with other reaches, leaves the ensemble unstaged.
    expect(createEnsemble([members[0], mockModel(12)]).stages).toBeUndefined();
    expect(createEnsemble([members[0], mockStagedModel([3, 2, 1])]).stages).toBeUndefined();
  });

  it("costs a change at the members' sum, when every member says what it costs", () => {
    const costed = (model: LoadedModel, per: number): LoadedModel => ({
      ...model,
      stages: { ...model.stages!, coneCost: (dist: number) => ({ staged: per * (2 * dist + 1), minimal: 2 * dist + 1 }) },
    });
    const [a, b] = [mockStagedModel([2, 3, 1], 3, 1), mockStagedModel([2, 3, 1], 2, 2)];
    expect(createEnsemble([costed(a, 3), costed(b, 5)]).stages!.coneCost!(10)).toEqual({ staged: 168, minimal: 42 });
    expect(createEnsemble([costed(a, 3), b]).stages!.coneCost).toBeUndefined();
  });
});
