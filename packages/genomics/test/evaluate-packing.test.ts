import { describe, expect, it } from 'vitest';
import { type LoadedModel, predictPacked, type PackJob, encodeSequence } from '@metaspliceai/core';
import { SequenceInference, sequenceInput } from '@metaspliceai/genomics';
import { readPadded } from '../src/inference/sequence-input.js';
import { mockModel, randomSequence } from '@metaspliceai/core/testing';

// Short records (N beyond their ends) share tiles, side by side with context/2 N between them:
// every output must equal what the record gives alone, in fewer model calls.

function counting(model: LoadedModel): LoadedModel & { calls: number; inputs: number } {
  const counted = {
    ...model,
    calls: 0,
    inputs: 0,
    async predict(batch: Parameters<LoadedModel['predict']>[0]) {
      counted.calls++;
      counted.inputs += batch.batch * batch.length;
      return model.predict(batch);
    },
  };
  return counted;
}

describe('packing short isolated records into shared tiles', () => {
  it('gives each record the numbers it gets alone, in order, with far fewer inputs', async () => {
    const context = 200;
    const records = Array.from({ length: 60 }, (_, i) => randomSequence(5 + ((i * 37) % 90), i + 1));
    const alone = counting(mockModel(context));
    const expected: Float32Array[] = [];
    for (const r of records) {
      const rows: number[] = [];
      const codes = encodeSequence(r);
      for await (const c of predictPacked(
        alone,
        [{ tag: 0, outputLength: codes.length, source: (a, b) => readPadded(codes, a - context / 2, b - context / 2) }],
        { tileSize: 1000, batchSize: 4 },
      )) {
        rows.push(...c.probabilities);
      }
      expected.push(Float32Array.from(rows));
    }
    const packed = counting(mockModel(context));
    const jobs: PackJob<number>[] = records.map((r, i) => {
      const codes = encodeSequence(r);
      return { tag: i, outputLength: codes.length, isolated: true, source: (a, b) => readPadded(codes, a - context / 2, b - context / 2) };
    });
    const got: number[][] = records.map(() => []);
    const order: number[] = [];
    for await (const c of predictPacked(packed, jobs, { tileSize: 1000, batchSize: 4 })) {
      expect(c.offset).toBe(got[c.tag].length / 3);
      got[c.tag].push(...c.probabilities);
      if (c.done) order.push(c.tag);
    }
    expect(order).toEqual(records.map((_, i) => i));
    got.forEach((rows, i) => expect(Float32Array.from(rows), `record ${i}`).toEqual(expected[i]));
    // Alone, a record of 5-94 nt costs a tile of 32-96 outputs plus the context (~264 inputs);
    // packed, its length plus context/2 (~150) plus its share of the tile's context.
    expect(packed.inputs).toBeLessThan(alone.inputs * 0.7);
    expect(packed.calls).toBeLessThan(alone.calls);
  });

  it('regions with real flanks are never packed; SequenceInference packs raw sequences on both strands', async () => {
    const context = 40;
    const model = counting(mockModel(context));
    const inference = new SequenceInference({ models: model, tileSize: 500, batchSize: 2 });
    const seqs = [randomSequence(50, 3), randomSequence(70, 4), randomSequence(30, 5)];
    const inputs = seqs.map((s, i) => sequenceInput(`r${i}`, s, { strand: i === 1 ? '-' : '+' }));
    const rows = new Map<string, number[]>();
    for await (const e of inference.predict(inputs))
      if (e.type === 'rows') rows.set(e.sequence.name, [...(rows.get(e.sequence.name) ?? []), ...e.probabilities]);
    expect(model.calls).toBe(1);
    for (const [i, s] of seqs.entries()) {
      const one = await new SequenceInference({ models: mockModel(context), tileSize: 500 }).predictSequence(s, { strand: i === 1 ? '-' : '+' });
      expect(Float32Array.from(rows.get(`r${i}`)!)).toEqual(one.probabilities);
    }
    const flanked = { ...sequenceInput('flanked', seqs[0]), isolated: false };
    const m2 = counting(mockModel(context));
    const inf2 = new SequenceInference({ models: m2, tileSize: 500, batchSize: 1 });
    for await (const _ of inf2.predict([flanked, { ...sequenceInput('f2', seqs[1]), isolated: false }])) void _;
    expect(m2.calls).toBe(2);
  });
});
