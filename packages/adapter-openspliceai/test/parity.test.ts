import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModelManager, encodeSequence, predictCodes } from '@metaspliceai/core';
import { createOpenSpliceAIAdapter } from '../src/index.js';
import { MODELS_DIR } from '../../../test-support/shared.js';
import { maxAbsDifference, readExpected, readFixtureSequences } from '../../../test-support/fixtures.js';

const sequences = readFixtureSequences();
const manager = createModelManager({ modelsDir: MODELS_DIR }).register(createOpenSpliceAIAdapter());

describe('OpenSpliceAI parity with the reference outputs', () => {
  for (const flank of [80, 400, 2000, 10000]) {
    it(`openspliceai-mane ${flank} ensemble matches within 1e-5 on every fixture sequence`, async () => {
      const loaded = await manager.load({ adapter: 'openspliceai', setName: 'openspliceai-mane', context: flank });
      try {
        expect(loaded.set.members).toHaveLength(5);
        for (const [name, sequence] of sequences) {
          const out = await predictCodes(loaded.model, encodeSequence(sequence));
          const diff = maxAbsDifference(out, readExpected(name, `openspliceai_mane_${flank}_ensemble`));
          expect(diff, `${name} at flank ${flank}`).toBeLessThan(1e-5);
        }
      } finally {
        await loaded.dispose();
      }
    });
  }

  it('model_10000nt_rs10.pt alone matches within 1e-5', async () => {
    const adapter = createOpenSpliceAIAdapter();
    const model = await adapter.load({ file: join(MODELS_DIR, 'openspliceai/openspliceai-mane/10000nt/model_10000nt_rs10.pt'), context: 10000 });
    try {
      for (const [name, sequence] of sequences) {
        expect(maxAbsDifference(await predictCodes(model, encodeSequence(sequence)), readExpected(name, 'openspliceai_mane_10000_rs10'))).toBeLessThan(1e-5);
      }
    } finally {
      await model.dispose();
    }
  });

  it('loads a set as one session whose output is the mean of the members; declines .onnx members', async () => {
    const adapter = createOpenSpliceAIAdapter();
    const files = [10, 11, 12, 13, 14].map((seed) => join(MODELS_DIR, `openspliceai/openspliceai-mane/400nt/model_400nt_rs${seed}.pt`));
    const joint = (await adapter.loadEnsemble!({ files, context: 400 }))!;
    const members = await Promise.all(files.map((file) => adapter.load({ file, context: 400 })));
    try {
      const codes = encodeSequence(sequences.get('tubb8_window')!);
      const outputs = await Promise.all(members.map((m) => predictCodes(m, codes)));
      const mean = (await predictCodes(joint, codes)).map((v, i) => Math.abs(v - outputs.reduce((sum, o) => sum + o[i], 0) / outputs.length));
      expect(Math.max(...mean)).toBeLessThan(1e-6);
      expect(await adapter.loadEnsemble!({ files: [files[0], 'exported.onnx'], context: 400 })).toBeUndefined();
    } finally {
      await Promise.all([joint, ...members].map((m) => m.dispose()));
    }
  });

  it('gives the same numbers with 40000-output tiles in batches of 2', async () => {
    const loaded = await manager.load({ adapter: 'openspliceai', setName: 'openspliceai-mane', context: 400 });
    try {
      const codes = encodeSequence(sequences.get('tubb8_window')!);
      const reference = await predictCodes(loaded.model, codes);
      const tiled = await predictCodes(loaded.model, codes, { tileSize: 1000, batchSize: 2 });
      expect(
        maxAbsDifference(
          tiled,
          [...Array(codes.length)].map((_, i) => [reference[i * 3], reference[i * 3 + 1], reference[i * 3 + 2]]),
        ),
      ).toBeLessThan(1e-6);
    } finally {
      await loaded.dispose();
    }
  });
});

describe('discovery of the real OpenSpliceAI layout', () => {
  it('finds mane at 80/400/2000/10000 and mouse at 10000, five seeds each, contexts from the weights', async () => {
    const found = await manager.discover();
    expect(found.modelSets.map((s) => [s.name, s.context, s.members.map((m) => m.memberId)])).toEqual([
      ['openspliceai-mane', 80, ['rs10', 'rs11', 'rs12', 'rs13', 'rs14']],
      ['openspliceai-mane', 400, ['rs10', 'rs11', 'rs12', 'rs13', 'rs14']],
      ['openspliceai-mane', 2000, ['rs10', 'rs11', 'rs12', 'rs13', 'rs14']],
      ['openspliceai-mane', 10000, ['rs10', 'rs11', 'rs12', 'rs13', 'rs14']],
      ['openspliceai-mouse', 10000, ['rs10', 'rs11', 'rs12', 'rs13', 'rs14']],
    ]);
    expect(found.modelSets.every((s) => s.members.every((m) => m.inspection?.context === s.context))).toBe(true);
    expect(found.modelSets[3].parameterCount).toBe(698_787);
    expect(found.modelSets[0].license).toBe('GPL-3.0');
  });

  it('reports the contexts that exist when asked for one that does not', async () => {
    const report = await manager.validate({ adapter: 'openspliceai', context: 5000 });
    expect(report.valid).toBe(false);
    expect(report.issues[0].message).toMatch(
      /no openspliceai model for context 5000 .*available: openspliceai openspliceai-mane at 80, 400, 2000, 10000; openspliceai openspliceai-mouse at 10000/,
    );
  });
});
