import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createModelManager } from '@metaspliceai/core';
import { createMockAdapter } from '@metaspliceai/core/testing';
import { defaultModel } from '../src/context.js';
import type { CliIO } from '../src/output/io.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function project(config?: object): CliIO {
  const dir = mkdtempSync(join(tmpdir(), 'msai-default-model-'));
  dirs.push(dir);
  if (config) writeFileSync(join(dir, 'metaspliceai.config.json'), JSON.stringify(config));
  else writeFileSync(join(dir, 'package.json'), '{}'); // a project root without a config
  return { cwd: dir } as CliIO;
}

describe('--model left out', () => {
  const manager = createModelManager({ modelsDir: '/nonexistent' });
  manager.register(createMockAdapter({ id: 'first-family' }));
  manager.register(createMockAdapter({ id: 'second-family' }));

  it('is the first adapter registered when the config names none', () => {
    expect(defaultModel(manager, project())).toBe('first-family');
  });

  it('is defaultModel of metaspliceai.config.json when given', () => {
    expect(defaultModel(manager, project({ defaultModel: 'second-family' }))).toBe('second-family');
  });

  it('is a ModelNotFoundError when no adapter is registered', () => {
    expect(() => defaultModel(createModelManager({ modelsDir: '/nonexistent' }), project())).toThrow('no adapter is registered, so --model has no default');
  });
});
