/**
 * Short raw sequences (N beyond both ends) run as cones on an all-N reference through a real staged
 * ensemble: the rows must be those of packed tiles, on both strands, with longer records between.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createModelManager, type LoadedModel, type LoadedModelSet, type StagedNetwork } from '@metaspliceai/core';
import { createOpenSpliceAIAdapter } from '@metaspliceai/adapter-openspliceai';
import { openFasta, SequenceInference, sequenceInput } from '@metaspliceai/genomics';
import { MODELS_DIR, SHARED } from '../../../test-support/shared.js';

/** The loaded model with other stages (none: every record takes packed tiles); `dispose` left to the owner. */
function withStages(model: LoadedModel, stages: StagedNetwork | undefined): LoadedModel {
  return {
    context: model.context,
    tracks: model.tracks,
    backend: model.backend,
    device: model.device,
    predict: (b) => model.predict(b),
    stages,
    dispose: async () => {},
  };
}

describe('short records as cones, openspliceai-mane 400', () => {
  let loaded: LoadedModelSet;
  beforeAll(async () => {
    const manager = createModelManager({ modelsDir: MODELS_DIR }).register(createOpenSpliceAIAdapter());
    loaded = await manager.load({ adapter: 'openspliceai', setName: 'openspliceai-mane', context: 400, threads: 2 });
  });
  afterAll(async () => loaded?.dispose());

  test('equal the rows of packed tiles, in order, and take the cone path', async () => {
    const model = loaded.model;
    const stages = model.stages!;
    expect(stages).toBeDefined();
    let stageCalls = 0;
    const counted: StagedNetwork = {
      reach: stages.reach,
      channels: stages.channels,
      runFirst: (batch) => (stageCalls++, stages.runFirst(batch)),
      runMiddle: (k, state) => (stageCalls++, stages.runMiddle(k, state)),
      runLast: (state) => (stageCalls++, stages.runLast(state)),
    };
    const fasta = await openFasta(resolve(SHARED, 'data', 'chr10_hg19_test.fa'));
    const bases = (await fasta.fetch('chr10', 93_000, 99_000)).toUpperCase();
    // Up to context/2 (200) nt a record is a cone, in a run of at least MIN_CONE_RUN (8) such
    // records; 201 and longer, and the short run at the end, take tiles.
    const lengths = [1, 7, 150, 199, 200, 13, 90, 120, 5, 201, 700, 3000, 60, 2];
    let at = 0;
    const inputs = () =>
      lengths.map((n, i) => {
        const start = (at = (at + 397) % (bases.length - n));
        return sequenceInput(`r${i}`, bases.slice(start, start + n), { strand: i % 3 === 1 ? '-' : '+' });
      });
    const run = async (m: LoadedModel) => {
      at = 0;
      const rows = new Map<string, number[]>();
      const order: string[] = [];
      for await (const e of new SequenceInference({ models: m, tileSize: 1000, batchSize: 2 }).predict(inputs())) {
        if (e.type === 'rows') rows.set(e.sequence.name, [...(rows.get(e.sequence.name) ?? []), ...e.probabilities]);
        if (e.type === 'end') order.push(e.sequence.name);
      }
      return { rows, order };
    };
    const tiles = await run(withStages(model, undefined));
    const cones = await run(withStages(model, counted));
    expect(stageCalls).toBeGreaterThan(0);
    expect(cones.order).toEqual(lengths.map((_, i) => `r${i}`));
    expect(tiles.order).toEqual(cones.order);
    lengths.forEach((n, i) => {
      const a = cones.rows.get(`r${i}`)!;
      const b = tiles.rows.get(`r${i}`)!;
      expect(a.length).toBe(n * model.tracks.length);
      expect(Math.max(...a.map((v, k) => Math.abs(v - b[k]))), `r${i} (${n} nt)`).toBeLessThan(1e-6);
    });
  });
});
