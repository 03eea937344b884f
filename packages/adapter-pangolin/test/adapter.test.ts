import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createModelManager, encodeSequence, ModelFileError, predictCodes } from '@metaspliceai/core';
import { readStateDictIndex } from '@metaspliceai/torch';
import {
  createPangolinAdapter,
  PANGOLIN_CATALOGUE,
  PANGOLIN_FILE_PATTERNS,
  PANGOLIN_HEADS,
  PANGOLIN_TRACKS,
  parsePangolinPath,
  readPangolinArchitecture,
} from '../src/index.js';
import { MODELS_DIR } from '../../../test-support/shared.js';
import { readFixtureSequences } from '../../../test-support/fixtures.js';

const DIR = join(MODELS_DIR, 'pangolin');
const file = (replicate: number, head: number) => join(DIR, `final.${replicate}.${head}.3.v2`);
const tmp = mkdtempSync(join(tmpdir(), 'metaspliceai-pangolin-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('heads and tracks', () => {
  it("follow upstream's INDEX_MAP {0:1, 1:2, 2:4, 3:5, 4:7, 5:8, 6:10, 7:11} over the 12 concatenated channels", () => {
    // The 12 channels: per tissue a 2-class softmax then a sigmoid.
    const blockStart = [0, 2, 3, 5, 6, 8, 9, 11];
    expect(PANGOLIN_HEADS.map((h) => blockStart[h.index] + h.channel)).toEqual([1, 2, 4, 5, 7, 8, 10, 11]);
    expect(PANGOLIN_HEADS.map((h) => [h.layer, h.outputs])).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((k) => [`conv_last${k}`, k % 2 === 1 ? 2 : 1]));
    expect(PANGOLIN_TRACKS.map((t) => t.name)).toEqual([
      'p_splice_heart',
      'usage_heart',
      'p_splice_liver',
      'usage_liver',
      'p_splice_brain',
      'usage_brain',
      'p_splice_testis',
      'usage_testis',
    ]);
    expect(PANGOLIN_TRACKS.map((t) => t.kind)).toEqual(Array(4).fill(['site-probability', 'usage']).flat());
  });
});

describe('file patterns and path hints', () => {
  it('claim exactly the v2 files', () => {
    const claimed = (p: string) => PANGOLIN_FILE_PATTERNS.some((re) => re.test(p));
    for (const p of ['pangolin/final.1.0.3.v2', 'final.3.7.3.v2', 'x/y/final.2.5.3.v2']) expect(claimed(p), p).toBe(true);
    for (const p of [
      'pangolin/final.1.0.3',
      'pangolin/final.1.8.3.v2',
      'pangolin/final.0.0.3.v2',
      'final.1.0.3.v2.bak',
      'final.1.0.2.v2',
      'spliceai/spliceai1.h5',
      'openspliceai/openspliceai-mane/80nt/model_80nt_rs10.pt',
      'README.md',
    ]) {
      expect(claimed(p), p).toBe(false);
    }
  });

  it('put every file in set pangolin-v2, member rep<j>-head<i>', () => {
    expect(parsePangolinPath('pangolin/final.2.5.3.v2')).toEqual({ setName: 'pangolin-v2', memberId: 'rep2-head5' });
    expect(parsePangolinPath('elsewhere/final.1.0.3.v2').setName).toBe('pangolin-v2');
  });
});

describe('catalogue', () => {
  it('lists the 24 upstream files with the sha256 and size of the files in the models folder', () => {
    const [set] = PANGOLIN_CATALOGUE;
    expect(PANGOLIN_CATALOGUE).toHaveLength(1);
    expect([set.setName, set.context, set.license, set.directory]).toEqual(['pangolin-v2', 10000, 'GPL-3.0', 'pangolin']);
    expect(set.citation).toMatch(/Zeng T, Li YI\..*Genome Biology 23, 103 \(2022\)\. doi:10\.1186\/s13059-022-02664-4/);
    expect(set.files).toHaveLength(24);
    for (const f of set.files) {
      expect(f.url).toBe(`https://github.com/tkzeng/Pangolin/raw/main/pangolin/models/${f.name}`);
      const bytes = readFileSync(join(DIR, f.name));
      expect(bytes.length, f.name).toBe(f.size);
      expect(createHash('sha256').update(bytes).digest('hex'), f.name).toBe(f.sha256);
    }
  });
});

describe('architecture', () => {
  it('reads 16 blocks, context 10000 and the 8 heads from the weights', async () => {
    const arch = readPangolinArchitecture('f', await readStateDictIndex(file(1, 0)));
    expect(arch.context).toBe(10000);
    expect(arch.channels).toBe(32);
    expect(arch.blocks.map((b) => b.dilation)).toEqual([1, 1, 1, 1, 4, 4, 4, 4, 10, 10, 10, 10, 25, 25, 25, 25]);
    expect(arch.blocks.filter((b) => b.skip).map((b) => [b.prefix, b.skip])).toEqual([3, 7, 11, 15].map((i, k) => [`resblocks.${i}`, `convs.${k}`]));
  });

  it('refuses a state dict that is not Pangolin, naming the tensor', async () => {
    const index = await readStateDictIndex(file(1, 0));
    const without = index.filter((t) => t.name !== 'conv_last5.bias');
    expect(() => readPangolinArchitecture('x.v2', without)).toThrow(/x\.v2: tensor conv_last5\.bias is missing/);
    const wrongKernel = index.map((t) => (t.name === 'resblocks.15.conv1.weight' ? { ...t, shape: [32, 32, 21] } : t));
    expect(() => readPangolinArchitecture('x.v2', wrongKernel)).toThrow(/16 residual blocks with kernel sizes .*; Pangolin has 16/);
    const extra = [...index, { ...index[0], name: 'conv_last9.weight' }];
    const error = (() => {
      try {
        readPangolinArchitecture('x.v2', extra);
      } catch (e) {
        return e;
      }
    })();
    expect(ModelFileError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/unexpected tensor conv_last9\.weight/);
  });
});

describe('load and loadEnsemble', () => {
  it('inspect reports the architecture and parameter count', async () => {
    const info = await createPangolinAdapter().inspect(file(2, 3));
    expect(info).toMatchObject({ context: 10000, format: 'pytorch-state-dict' });
    expect(info.architecture).toBe('Pangolin-10000 (16 residual blocks, 32 channels, ReLU, 8 heads: P(splice) and usage for heart, liver, brain, testis)');
  });

  it('refuses a renamed file (only the name says which head it is), a context the weights are not, and unequal replicates', async () => {
    const renamed = join(tmp, 'pangolin-heart.pt');
    copyFileSync(file(1, 0), renamed);
    const adapter = createPangolinAdapter();
    await expect(adapter.load({ file: renamed, context: 10000 })).rejects.toThrow(/pangolin-heart\.pt: cannot tell which Pangolin head/);
    await expect(adapter.loadEnsemble!({ files: [file(1, 0), renamed], context: 10000 })).rejects.toThrow(/cannot tell which Pangolin head/);
    await expect(adapter.load({ file: file(1, 0), context: 2000 })).rejects.toThrow(/a 10000-nt model, but context 2000 was asked for/);
    await expect(adapter.loadEnsemble!({ files: [file(1, 0), file(2, 0), file(1, 1)], context: 10000 })).rejects.toThrow(
      /different numbers of replicates \(head 0: 2, head 1: 1\)/,
    );
    await expect(adapter.load({ file: file(1, 0), context: 10000, backend: 'tfjs' })).rejects.toThrow(
      /runs on the onnx backend: backend must be auto or onnx, got "tfjs"/,
    );
    await expect(adapter.load({ file: file(1, 0), context: 10000, backend: 'tfjs' })).rejects.toHaveProperty('code', 'E_INVALID_ARGUMENT');
    expect(() => createPangolinAdapter({ threads: 0 })).toThrow('createPangolinAdapter: threads must be a whole number of at least 1, got 0');
  });

  it('a partial set has a track per head present, each the mean of its replicates, and its stages chain to predict', async () => {
    const adapter = createPangolinAdapter();
    const files = [file(1, 2), file(2, 2), file(1, 7), file(2, 7)];
    const joint = (await adapter.loadEnsemble!({ files, context: 10000 }))!;
    const members = await Promise.all(files.map((f) => adapter.load({ file: f, context: 10000 })));
    try {
      expect(joint.tracks.map((t) => t.name)).toEqual(['p_splice_liver', 'usage_testis']);
      const codes = encodeSequence(readFixtureSequences().get('random1200_seed7')!.slice(0, 300));
      const [out, ...one] = await Promise.all([joint, ...members].map((m) => predictCodes(m, codes)));
      let worst = 0;
      for (let p = 0; p < codes.length; p++) {
        worst = Math.max(worst, Math.abs(out[2 * p] - (one[0][p] + one[1][p]) / 2), Math.abs(out[2 * p + 1] - (one[2][p] + one[3][p]) / 2));
      }
      expect(worst).toBeLessThan(1e-6);

      const stages = joint.stages!;
      expect(stages.reach.reduce((a, b) => a + b, 0)).toBe(5000);
      const length = 10000 + 31;
      const tile = encodeSequence('ACGTTGCAAN'.repeat(1004)).subarray(0, length);
      let state = await stages.runFirst({ codes: tile, batch: 1, length });
      for (let k = 1; k < stages.reach.length - 1; k++) state = await stages.runMiddle(k, state);
      const chained = await stages.runLast(state);
      const whole = await joint.predict({ codes: tile, batch: 1, length });
      expect(chained.length).toBe(31 * 2);
      expect(Math.max(...chained.map((v, i) => Math.abs(v - whole[i])))).toBeLessThan(1e-5);
    } finally {
      await Promise.all([joint, ...members].map((m) => m.dispose()));
    }
  });
});

describe('model_info.json', () => {
  it('records the 8 tracks of the set, and no splice classes it does not predict', async () => {
    const models = join(tmp, 'models-index');
    const dir = join(models, 'pangolin');
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(DIR)) if (/^final\.\d\.\d\.3\.v2$/.test(name)) copyFileSync(join(DIR, name), join(dir, name));
    const manager = createModelManager({ modelsDir: models }).register(createPangolinAdapter());
    const [written] = await manager.index();
    const info = JSON.parse(readFileSync(written.path, 'utf8'));
    expect(info.tracks).toEqual(PANGOLIN_TRACKS.map((t) => t.name));
    expect(info.outputClasses).toBeUndefined();
    expect(info.files).toHaveLength(24);
  });
});
