import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createModelManager, DeviceUnavailableError, InvalidArgumentError, ModelFileError } from '@metaspliceai/core';
import { createPwmAdapter, readPwmModelFile } from '../src/index.js';
import { MODEL_FILE, MODELS_DIR } from './fixtures.js';

const SCRIPT = fileURLToPath(new URL('../scripts/build-model.mjs', import.meta.url));

async function withFile(json: unknown, fn: (file: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'pwm-'));
  try {
    const file = join(dir, 'bad.pwm.json');
    await fs.writeFile(file, JSON.stringify(json));
    await fn(file);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

describe('PWM model files', () => {
  it('the model file in the repository is what scripts/build-model.mjs generates', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT, '--check']);
    expect(stdout).toMatch(/is up to date/);
  });

  it('refuses files that are not PWM models, naming the file and the field', async () => {
    const good = JSON.parse(await fs.readFile(MODEL_FILE, 'utf8'));
    const cases: [unknown, RegExp][] = [
      [{ ...good, context: 40 }, /context is too small/],
      [{ ...good, formatVersion: 2 }, /formatVersion/],
      [{ ...good, motifs: { ...good.motifs, donor: { ...good.motifs.donor, anchor: 9 } } }, /anchor must index a row/],
      [{ ...good, background: [0.5, 0.5, 0, 0] }, /background: frequencies must be strictly between 0 and 1/],
      [{ hello: 'world' }, /is not a metaspliceai-pwm v1 model/],
    ];
    for (const [json, message] of cases) {
      await withFile(json, async (file) => {
        const error = await readPwmModelFile(file).catch((e: unknown) => e);
        expect(ModelFileError.isInstance(error)).toBe(true);
        expect((error as Error).message).toContain(file);
        expect((error as Error).message).toMatch(message);
      });
    }
  });

  it('load refuses another context, backend or device with typed errors', async () => {
    const adapter = createPwmAdapter();
    await expect(adapter.load({ file: MODEL_FILE, context: 80 })).rejects.toSatisfy(ModelFileError.isInstance);
    await expect(adapter.load({ file: MODEL_FILE, context: 50, backend: 'onnx' })).rejects.toSatisfy(InvalidArgumentError.isInstance);
    await expect(adapter.load({ file: MODEL_FILE, context: 50, device: 'gpu' })).rejects.toSatisfy(DeviceUnavailableError.isInstance);
  });

  it('is discovered, resolved, health-checked and indexed by the core manager like any family', async () => {
    const root = await fs.mkdtemp(join(tmpdir(), 'pwm-models-'));
    try {
      await fs.cp(MODELS_DIR, root, { recursive: true });
      const manager = createModelManager({ modelsDir: root }).register(createPwmAdapter());
      const { modelSets, problems } = await manager.discover();
      expect(problems).toEqual([]);
      expect(modelSets).toEqual([expect.objectContaining({ adapter: 'pwm', name: 'pwm-human', context: 50, license: 'MIT' })]);
      expect(modelSets[0].members.map((m) => m.memberId)).toEqual(['splice-sites']);
      expect((await manager.health({ adapter: 'pwm' })).ok).toBe(true);
      const [written] = await manager.index({ golden: true });
      expect(written.info).toMatchObject({ adapter: 'pwm', setName: 'pwm-human', context: 50, species: 'human', license: 'MIT' });
      const report = await manager.validate();
      expect(report.valid).toBe(true);
      const health = await manager.health({ adapter: 'pwm' });
      expect(health.checks.find((c) => c.name === 'golden')?.ok).toBe(true);
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
