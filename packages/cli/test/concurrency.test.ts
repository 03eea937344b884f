/**
 * Concurrency with real weights: several loads of the same sets at once (OpenSpliceAI 400 nt from
 * .pt, SpliceAI from .h5 on onnxruntime), then predictions at once on the same and on different
 * loaded models, must give exactly the outputs of one load and one prediction at a time.
 */
import { describe, expect, it } from 'vitest';
import { createModelManager, encodeSequence, type LoadModelOptions, type LoadedModelSet, predictCodes } from '@metaspliceai/core';
import { readFixtureSequences } from '../../../test-support/fixtures.js';
import { MODELS_DIR } from '../../../test-support/shared.js';
import { registerAdapters } from '../src/adapters.js';

const SETS: { label: string; query: LoadModelOptions; parallelLoads: number }[] = [
  { label: 'OpenSpliceAI 400 nt', query: { adapter: 'openspliceai', setName: 'openspliceai-mane', context: 400 }, parallelLoads: 3 },
  { label: 'SpliceAI (onnx)', query: { adapter: 'spliceai', backend: 'onnx' }, parallelLoads: 2 },
];

describe('parallel loads and predictions give the outputs of sequential ones', () => {
  it('loads each set several times at once and predicts on all of them at once', async () => {
    const manager = createModelManager({ modelsDir: MODELS_DIR });
    await registerAdapters(manager);
    const sequences = readFixtureSequences();
    // Two inputs, so concurrent calls on one model differ and a mixed-up result would show.
    const inputs = [encodeSequence(sequences.get('short50')!), encodeSequence(sequences.get('tubb8_window')!.slice(0, 120))];
    // Tiles the size of the input keep the 10000-nt SpliceAI windows few (the numbers do not depend on it).
    const predict = (set: LoadedModelSet, codes: Uint8Array) => predictCodes(set.model, codes, { tileSize: 120 });

    // One at a time: one load per set, one prediction per input.
    const expected = new Map<string, Float32Array[]>();
    for (const { label, query } of SETS) {
      const loaded = await manager.load(query);
      try {
        const outputs: Float32Array[] = [];
        for (const codes of inputs) outputs.push(await predict(loaded, codes));
        expected.set(label, outputs);
      } finally {
        await loaded.dispose();
      }
    }

    // All loads at once, both sets interleaved.
    const loads = SETS.flatMap(({ label, query, parallelLoads }) => Array.from({ length: parallelLoads }, () => ({ label, load: manager.load(query) })));
    const loaded = await Promise.all(loads.map(async ({ label, load }) => ({ label, set: await load })));
    try {
      expect(loaded.map((l) => l.set.set.members.length)).toEqual(loads.map(() => 5));
      // Every input on every loaded copy at once: two calls run on the same model concurrently, and
      // different models (same set and different sets) run side by side.
      const runs = loaded.flatMap(({ label, set }) => inputs.map((codes, i) => ({ label, i, output: predict(set, codes) })));
      const results = await Promise.all(runs.map(async (r) => ({ ...r, output: await r.output })));
      for (const { label, i, output } of results) {
        const want = expected.get(label)![i];
        expect(output.length, `${label} input ${i}`).toBe(want.length);
        expect(
          Buffer.from(output.buffer, output.byteOffset, output.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)),
          `${label} input ${i}: outputs differ`,
        ).toBe(true);
      }
    } finally {
      await Promise.all(loaded.map((l) => l.set.dispose()));
    }
  });
});
