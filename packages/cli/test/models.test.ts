import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

describe('models messages that say what is wrong', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  // Without METASPLICEAI_MODELS_DIR, as a user who has not set it.
  const { METASPLICEAI_MODELS_DIR: _unset, ...env } = process.env;

  it('models index <dir>, exactly as validate recommends it, indexes that folder without --models-dir', async () => {
    const root = await tree({ 'alpha/a_8.mock': mock(8), 'alpha/b_8.mock': mock(8) });
    const validate = await cli(['models', 'validate', '--models-dir', root, '--adapter', MOCK_ADAPTER], { env });
    const recommended = /recommendation: record checksums and provenance with: metaspliceai (models index \S+)$/m.exec(validate.stdout);
    expect(recommended?.[1]).toBe(`models index ${join(root, 'alpha')}`);
    const elsewhere = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-cwd-'));
    const index = await cli([...recommended![1].split(' '), '--adapter', MOCK_ADAPTER], { cwd: elsewhere, env });
    expect(index.stderr).toBe('');
    expect(index.code).toBe(0);
    expect(index.stdout).toContain('(mock/alpha/8, 2 files)');
    const info = JSON.parse(await fs.readFile(join(root, 'alpha', 'metadata', 'model_info.json'), 'utf8'));
    expect(info).toMatchObject({ adapter: 'mock', setName: 'alpha', context: 8 });
    const again = await cli(['models', 'validate', '--models-dir', root, '--adapter', MOCK_ADAPTER], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('recommendation: record checksums');

    const empty = await cli(['models', 'index', elsewhere, '--adapter', MOCK_ADAPTER], { cwd: elsewhere, env });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(new RegExp(`^error: no model sets under ${elsewhere}; nothing was indexed\nhint: `));
  });

  it('a models folder that does not exist is an error naming it (exit 1), not an empty list', async () => {
    const missing = join(await fs.mkdtemp(join(tmpdir(), 'metaspliceai-cli-')), 'missing');
    for (const command of [['list'], ['list', '--json'], ['validate'], ['show', 'mock']]) {
      const r = await cli(['models', ...command, '--models-dir', missing, '--adapter', MOCK_ADAPTER]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        new RegExp(`^error: the models folder ${missing} does not exist\nhint: point --models-dir .* metaspliceai models pull <adapter>\n$`),
      );
    }
  });

  it('an unreadable models folder says permission denied, not "none found"', async () => {
    const root = await tree({ 'alpha/a_8.mock': mock(8) });
    // Tests may run as root, whom chmod does not stop: inject the error the kernel gives other users.
    const readdir = fs.readdir.bind(fs) as (...args: unknown[]) => Promise<unknown>;
    vi.spyOn(fs, 'readdir').mockImplementation(((path: unknown, ...rest: unknown[]) =>
      path === root
        ? Promise.reject(Object.assign(new Error(`EACCES: permission denied, scandir '${root}'`), { code: 'EACCES' }))
        : readdir(path, ...rest)) as never);
    for (const command of [['list'], ['show', 'mock']]) {
      const r = await cli(['models', ...command, '--models-dir', root, '--adapter', MOCK_ADAPTER]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `error: cannot read the models folder ${root}: permission denied\nhint: give your user read and search permission on it (chmod u+rx), or point --models-dir (or METASPLICEAI_MODELS_DIR) at the folder that holds your models\n`,
      );
    }
    vi.restoreAllMocks();
    if (process.getuid?.() === 0) return; // as root chmod 000 denies nothing; the injected error above stands for it
    await fs.chmod(root, 0);
    try {
      const r = await cli(['models', 'list', '--models-dir', root, '--adapter', MOCK_ADAPTER]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/permission denied/);
    } finally {
      await fs.chmod(root, 0o755);
    }
  });

  it('models health warns about a member whose sha256 differs from model_info.json, and fails with --strict', async () => {
    const root = await tree({ 'alpha/a_8.mock': mock(8), 'alpha/b_8.mock': mock(8) });
    const args = ['--models-dir', root, '--adapter', MOCK_ADAPTER];
    expect((await cli(['models', 'index', ...args])).code).toBe(0);
    const infoFile = join(root, 'alpha', 'metadata', 'model_info.json');
    const info = JSON.parse(await fs.readFile(infoFile, 'utf8'));
    info.files[1].sha256 = 'a'.repeat(64);
    await fs.writeFile(infoFile, JSON.stringify(info));
    const warned = await cli(['models', 'health', 'mock', ...args]);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toBe(
      `warning: ${join(root, 'alpha/b_8.mock')}: sha256 ${createHash('sha256').update(mock(8)).digest('hex')} differs from ${'a'.repeat(64)} in model_info.json; it is not the file that was indexed or pulled\n`,
    );
    const strict = await cli(['models', 'health', 'mock', ...args, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/^FAILED\s+mock\/alpha\/8/);
    expect(strict.stdout).toMatch(/FAIL load: .*b_8\.mock: sha256 [0-9a-f]{64} differs .*; strict checking refuses it$/m);
  });

  it('a set whose model_info.json lists a missing member is refused by health and validate (exit 1)', async () => {
    const root = await tree({ 'alpha/a_8.mock': mock(8), 'alpha/b_8.mock': mock(8) });
    const args = ['--models-dir', root, '--adapter', MOCK_ADAPTER];
    expect((await cli(['models', 'index', ...args])).code).toBe(0);
    await fs.rm(join(root, 'alpha/b_8.mock'));
    const health = await cli(['models', 'health', 'mock', ...args]);
    expect(health.code).toBe(1);
    expect(health.stdout).toMatch(
      /FAIL load: .*model_info\.json: lists 1 of its 2 members that are missing: b_8\.mock; refusing to load an incomplete mock\/alpha\/8$/m,
    );
    const validate = await cli(['models', 'validate', ...args]);
    expect(validate.code).toBe(1);
    expect(validate.stdout).toMatch(/^INVALID\s+mock\/alpha\/8$/m);
    expect(validate.stdout).toMatch(/error: b_8\.mock is listed in model_info\.json but is missing/);
  });
});

describe('the program', () => {
  it('prints its version and exits 0', async () => {
    const r = await bin(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
