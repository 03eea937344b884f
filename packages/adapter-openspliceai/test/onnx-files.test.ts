import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeSequence, ModelFileError, predictCodes } from '@metaspliceai/core';
import { buildOpenSpliceAIGraph, createOpenSpliceAIAdapter, readArchitecture, readStateDict } from '../src/index.js';
import { MODELS_DIR } from '../../../test-support/shared.js';
import { readFixtureSequences } from '../../../test-support/fixtures.js';

const PT = join(MODELS_DIR, 'openspliceai/openspliceai-mane/400nt/model_400nt_rs12.pt');

describe('.onnx files', () => {
  it('inspects and runs an exported OpenSpliceAI graph like the .pt it came from', async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-onnx-'));
    try {
      const dict = await readStateDict(PT);
      const file = join(dir, 'openspliceai-mane-400nt-rs12.onnx');
      await fs.writeFile(file, buildOpenSpliceAIGraph(readArchitecture(PT, [...dict.values()]), dict, 'export'));
      const adapter = createOpenSpliceAIAdapter();
      expect(adapter.filePatterns.some((p) => p.test('exports/openspliceai-mane-400nt-rs12.onnx'))).toBe(true);
      const info = await adapter.inspect(file);
      expect(info).toMatchObject({ context: 400, format: 'onnx' });
      const codes = encodeSequence(readFixtureSequences().get('random1200_seed7')!);
      const fromOnnx = await adapter.load({ file, context: 400 });
      const fromPt = await adapter.load({ file: PT, context: 400 });
      const [a, b] = [await predictCodes(fromOnnx, codes), await predictCodes(fromPt, codes)];
      expect(a.every((v, i) => Math.abs(v - b[i]) < 1e-6)).toBe(true);
      await Promise.all([fromOnnx.dispose(), fromPt.dispose()]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file that is not ONNX, naming it', async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-onnx-'));
    const file = join(dir, 'broken.onnx');
    await fs.writeFile(file, Buffer.from('definitely not protobuf \xff\xff\xff'));
    const error = await createOpenSpliceAIAdapter()
      .inspect(file)
      .catch((e) => e);
    expect(ModelFileError.isInstance(error)).toBe(true);
    expect(error.message).toContain(file);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('refuses to load weights for a context they are not', async () => {
    const error = await createOpenSpliceAIAdapter()
      .load({ file: PT, context: 10000 })
      .catch((e) => e);
    expect(ModelFileError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/400-nt model, but context 10000/);
  });
});
