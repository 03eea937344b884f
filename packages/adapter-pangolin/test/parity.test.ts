import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModelManager, encodeSequence, predictCodes } from '@metaspliceai/core';
import { createPangolinAdapter, PANGOLIN_TRACKS } from '../src/index.js';
import { MODELS_DIR } from '../../../test-support/shared.js';
import { FIXTURES, readFixtureSequences } from '../../../test-support/fixtures.js';

const DIR = join(MODELS_DIR, 'pangolin');
const FILES = readdirSync(DIR)
  .filter((f) => /^final\.[1-3]\.[0-7]\.3\.v2$/.test(f))
  .sort()
  .map((f) => join(DIR, f));
const sequences = readFixtureSequences();
/**
 * Stored values of one file, BatchNorm statistics included: 4x32+32 (conv1) + 32x32+32 (skip) +
 * 16 blocks x (2 convs + 2x4 BN vectors of 32) + 4 skip convs of 32x32+32 + 4 heads of 2x32+2 and
 * 4 of 32+1; the 16 kernels are 11 x8, 21 x4, 41 x4.
 */
const PARAMETERS =
  160 + 1056 + [...Array(8).fill(11), 21, 21, 21, 21, 41, 41, 41, 41].reduce((n, k) => n + 2 * (32 * 32 * k + 32) + 8 * 32, 0) + 4 * 1056 + 4 * 66 + 4 * 33;

/** Rows of a Pangolin fixture key (`expected/<name>.json`, 8 or 1 values per position). */
function expected(name: string, key: string): number[][] {
  const json = JSON.parse(readFileSync(join(FIXTURES, 'pangolin', 'expected', `${name}.json`), 'utf8')) as {
    channels: string[];
    outputs: Record<string, number[][]>;
  };
  expect(json.channels).toEqual(PANGOLIN_TRACKS.map((t) => t.name));
  return json.outputs[key] ?? expect.fail(`no key ${key} in ${name}.json`);
}

/** The largest absolute difference between `(positions, width)` rows and the expected rows. */
function worst(actual: Float32Array, rows: number[][]): number {
  const width = rows[0].length;
  expect(actual.length).toBe(rows.length * width);
  let max = 0;
  rows.forEach((row, i) => row.forEach((v, c) => (max = Math.max(max, Math.abs(actual[i * width + c] - v)))));
  return max;
}

describe('Pangolin parity with the reference outputs (upstream model.py, CPU float32)', () => {
  it('the 24 files as one joint model match pangolin_v2_ensemble within 1e-5 on every fixture sequence', async () => {
    expect(FILES).toHaveLength(24);
    const model = (await createPangolinAdapter().loadEnsemble!({ files: FILES, context: 10000 }))!;
    try {
      expect(model.tracks.map((t) => t.name)).toEqual(PANGOLIN_TRACKS.map((t) => t.name));
      for (const [name, sequence] of sequences) {
        const diff = worst(await predictCodes(model, encodeSequence(sequence)), expected(name, 'pangolin_v2_ensemble'));
        console.log(`pangolin_v2_ensemble ${name}: max abs difference ${diff.toExponential(2)}`);
        expect(diff, name).toBeLessThan(1e-5);
      }
    } finally {
      await model.dispose();
    }
  });

  it('final.1.0.3.v2 alone matches pangolin_v2_heart_p_splice_rep1 within 1e-5', async () => {
    const model = await createPangolinAdapter().load({ file: join(DIR, 'final.1.0.3.v2'), context: 10000 });
    try {
      expect(model.tracks.map((t) => t.name)).toEqual(['p_splice_heart']);
      for (const [name, sequence] of sequences) {
        const diff = worst(await predictCodes(model, encodeSequence(sequence)), expected(name, 'pangolin_v2_heart_p_splice_rep1'));
        console.log(`pangolin_v2_heart_p_splice_rep1 ${name}: max abs difference ${diff.toExponential(2)}`);
        expect(diff, name).toBeLessThan(1e-5);
      }
    } finally {
      await model.dispose();
    }
  });
});

describe('Pangolin through the model manager', () => {
  const manager = createModelManager({ modelsDir: MODELS_DIR }).register(createPangolinAdapter());

  it('discovers the 24 files as one set pangolin-v2, context 10000 read from the weights', async () => {
    const found = await manager.discover();
    const sets = found.modelSets.filter((s) => s.adapter === 'pangolin');
    expect(sets.map((s) => [s.name, s.context, s.members.length])).toEqual([['pangolin-v2', 10000, 24]]);
    expect(sets[0].members.every((m) => m.inspection?.context === 10000)).toBe(true);
    expect(sets[0].members.map((m) => m.memberId).slice(0, 3)).toEqual(['rep1-head0', 'rep1-head1', 'rep1-head2']);
    expect(sets[0].license).toBe('GPL-3.0');
    expect(sets[0].architecture).toMatch(/^Pangolin-10000 \(16 residual blocks, 32 channels, ReLU, 8 heads/);
    expect(sets[0].parameterCount).toBe(PARAMETERS);
  });

  it('loads the set through the manager (the adapter combines it) and matches pangolin_v2_ensemble', async () => {
    const loaded = await manager.load({ adapter: 'pangolin' });
    try {
      expect(loaded.model.tracks.map((t) => t.name)).toEqual(PANGOLIN_TRACKS.map((t) => t.name));
      const [name, sequence] = [...sequences].find(([n]) => n === 'random1200_seed7')!;
      expect(worst(await predictCodes(loaded.model, encodeSequence(sequence)), expected(name, 'pangolin_v2_ensemble'))).toBeLessThan(1e-5);
    } finally {
      await loaded.dispose();
    }
  });
});
