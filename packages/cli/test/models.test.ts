import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bin, cli, MOCK_ADAPTER } from './helpers.js';

async function tree(files: Record<string, string>): Promise<string> {
  const root = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-cli-'));
  for (const [p, text] of Object.entries(files)) {
    await fs.mkdir(dirname(join(root, p)), { recursive: true });
    await fs.writeFile(join(root, p), text);
  }
  return root;
}
const mock = (context: number) => JSON.stringify({ context });

describe('models commands with a third-party adapter', () => {
  it('lists sets as JSON', async () => {
    const root = await tree({ 'alpha/a_8.mock': mock(8), 'alpha/b_8.mock': mock(8), 'other.txt': '' });
    const r = await cli(['models', 'list', '--json', '--models-dir', root, '--adapter', MOCK_ADAPTER]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.modelSets).toEqual([
      expect.objectContaining({ adapter: 'mock', name: 'alpha', context: 8, files: [join(root, 'alpha/a_8.mock'), join(root, 'alpha/b_8.mock')] }),
    ]);
  });

  it('lists sets as a table', async () => {
    const root = await tree({ 'alpha/a_8.mock': mock(8) });
    const r = await cli(['models', 'list', '--models-dir', root, '--adapter', MOCK_ADAPTER]);
    expect(r.stdout).toMatch(/ADAPTER\s+SET\s+CONTEXT\s+MEMBERS/);
    expect(r.stdout).toMatch(/mock\s+alpha\s+8\s+1/);
  });

  it('indexes, shows, validates and health-checks; validation fails with exit 1 after a change', async () => {
    const root = await tree({ 'alpha/a_8.mock': mock(8) });
    const args = ['--models-dir', root, '--adapter', MOCK_ADAPTER];
    expect((await cli(['models', 'index', ...args, '--golden'])).code).toBe(0);
    const show = await cli(['models', 'show', 'mock', ...args]);
    expect(show.stdout).toMatch(/licence\s+CC0-1.0/);
    expect(show.stdout).toMatch(/a_8\s+8/);
    const ok = await cli(['models', 'validate', ...args]);
    expect(ok.code).toBe(0);
    const health = await cli(['models', 'health', 'mock', ...args, '--json']);
    expect(health.code).toBe(0);
    expect(JSON.parse(health.stdout).reports[0].checks.map((c: { name: string }) => c.name)).toContain('golden');
    await fs.writeFile(join(root, 'alpha/a_8.mock'), mock(8) + ' ');
    const bad = await cli(['models', 'validate', ...args, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).sets[0].issues[0].code).toBe('size-mismatch');
  });

  it('gives one line and a hint, exit 1, for a missing model; exit 2 for bad usage', async () => {
    const root = await tree({ 'alpha/a_8.mock': mock(8) });
    const missing = await cli(['models', 'show', 'mock', '--context', '5000', '--models-dir', root, '--adapter', MOCK_ADAPTER]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: no mock model for context 5000 .* available: mock alpha at 8\nhint: /);
    expect(missing.stderr).not.toMatch(/at .*\.ts:\d+/);
    const usage = await cli(['models', 'show', 'mock', '--context', 'ten', '--models-dir', root, '--adapter', MOCK_ADAPTER]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--context takes a whole number/);
    expect((await cli(['models', 'frobnicate'])).code).toBe(2);
    const badAdapter = await cli(['models', 'list', '--adapter', '/nonexistent/adapter.mjs']);
    expect(badAdapter.code).toBe(2);
    expect(badAdapter.stderr).toMatch(/--adapter \/nonexistent\/adapter.mjs: cannot import it/);
  });

  it('runs as the built bin with --debug showing the stack', async () => {
    const root = await tree({});
    const r = await bin(['models', 'show', 'mock', '--models-dir', root, '--adapter', MOCK_ADAPTER, '--debug']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: no mock model/);
    expect(r.stderr).toMatch(/ModelNotFoundError/);
  });
});

describe('the program', () => {
  it('prints its version and exits 0', async () => {
    const r = await bin(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
