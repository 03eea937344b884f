import { describe, expect, it } from 'vitest';
import { createModelManager, encodeSequence, predictCodes } from '@metaspliceai/core';
import { createSpliceAIAdapter } from '../src/index.js';
import { MODELS_DIR } from '../../../test-support/shared.js';
import { maxAbsDifference, readExpected, readFixtureSequences } from '../../../test-support/fixtures.js';
import { spliceaiFile } from './support/fixtures.js';

const sequences = readFixtureSequences();
const manager = createModelManager({ modelsDir: MODELS_DIR }).register(createSpliceAIAdapter());

describe.each(['onnx', 'tfjs'])('SpliceAI on the %s backend matches the reference outputs', (backend) => {
  it('the 5-model ensemble, within 1e-5 on every fixture sequence', async () => {
    const loaded = await manager.load({ adapter: 'spliceai', backend });
    try {
      expect(loaded.set.members.map((m) => m.memberId)).toEqual(['spliceai1', 'spliceai2', 'spliceai3', 'spliceai4', 'spliceai5']);
      expect(loaded.model.backend).toMatch(backend);
      for (const [name, sequence] of sequences) {
        const out = await predictCodes(loaded.model, encodeSequence(sequence));
        expect(maxAbsDifference(out, readExpected(name, 'spliceai_ensemble')), name).toBeLessThan(1e-5);
      }
    } finally {
      await loaded.dispose();
    }
  });

  it('spliceai1.h5 alone, within 1e-5', async () => {
    const model = await createSpliceAIAdapter().load({ file: spliceaiFile(1), context: 10000, backend });
    try {
      for (const [name, sequence] of sequences) {
        expect(maxAbsDifference(await predictCodes(model, encodeSequence(sequence)), readExpected(name, 'spliceai1')), name).toBeLessThan(1e-5);
      }
    } finally {
      await model.dispose();
    }
  });
});

describe('the SpliceAI release on disk', () => {
  it('is one set of five 10000-nt members, context read from the network, licence shown', async () => {
    const found = await manager.discover();
    expect(found.modelSets.map((s) => [s.adapter, s.name, s.context, s.members.length, s.license])).toEqual([
      ['spliceai', 'spliceai', 10000, 5, 'CC BY-NC 4.0'],
    ]);
    expect(found.modelSets[0].parameterCount).toBe(698_787);
  });

  it('auto picks onnx when only the wasm TensorFlow.js is there to compare with', async () => {
    const model = await createSpliceAIAdapter().load({ file: spliceaiFile(2), context: 10000 });
    expect(model.backend).toBe('onnx');
    await model.dispose();
  });

  it('loads the set as one onnx session (joint), and leaves tfjs to load member by member', async () => {
    const adapter = createSpliceAIAdapter();
    const files = [1, 2, 3, 4, 5].map(spliceaiFile);
    const joint = await adapter.loadEnsemble!({ files, context: 10000 });
    expect(joint?.backend).toBe('onnx');
    await joint?.dispose();
    expect(await adapter.loadEnsemble!({ files, context: 10000, backend: 'tfjs' })).toBeUndefined();
    await expect(adapter.loadEnsemble!({ files, context: 400 })).rejects.toThrow(/10000-nt model, but context 400/);
  });

  it('says in the health check which runtimes are installed', async () => {
    const lines = await createSpliceAIAdapter().describeRuntimes!();
    expect(lines).toContain('onnxruntime-node: installed');
    expect(lines).toContain('@tensorflow/tfjs-node: not installed');
  });
});
