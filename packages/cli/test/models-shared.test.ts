import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODELS_DIR } from '../../../test-support/shared.js';
import { cli } from './helpers.js';

// These tests read the real weights in the shared models folder and never write there: every
// command that writes (index) or needs a broken tree runs on a temporary copy.

const MANE = 'openspliceai/openspliceai-mane';
const shared = ['--models-dir', MODELS_DIR];

/** A temporary models folder with the 80 nt OpenSpliceAI files copied (or linked) in. */
async function copyOf80nt(mode: 'copy' | 'link'): Promise<{ root: string; folder: string }> {
  const root = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-models-'));
  const folder = join(root, MANE, '80nt');
  await fs.mkdir(folder, { recursive: true });
  for (const seed of [10, 11, 12, 13, 14]) {
    const name = `model_80nt_rs${seed}.pt`;
    const from = join(MODELS_DIR, MANE, '80nt', name);
    if (mode === 'link') await fs.symlink(from, join(folder, name));
    else await fs.writeFile(join(folder, name), await fs.readFile(from));
  }
  return { root, folder };
}

describe('models commands on the shared models folder', () => {
  it('list --json finds exactly the published sets, five members each, with their licences', async () => {
    const r = await cli(['models', 'list', '--json', ...shared]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      modelSets: { adapter: string; name: string; context: number; members: unknown[]; license: string }[];
      problems: unknown[];
    };
    expect(out.modelSets.map((s) => [s.adapter, s.name, s.context, s.members.length, s.license])).toEqual([
      ['openspliceai', 'openspliceai-mane', 80, 5, 'GPL-3.0'],
      ['openspliceai', 'openspliceai-mane', 400, 5, 'GPL-3.0'],
      ['openspliceai', 'openspliceai-mane', 2000, 5, 'GPL-3.0'],
      ['openspliceai', 'openspliceai-mane', 10000, 5, 'GPL-3.0'],
      ['openspliceai', 'openspliceai-mouse', 10000, 5, 'GPL-3.0'],
      ['pangolin', 'pangolin-v2', 10000, 24, 'GPL-3.0'],
      ['spliceai', 'spliceai', 10000, 5, 'CC BY-NC 4.0'],
    ]);
    expect(out.problems).toEqual([]);
  });

  it('list shows a table with the licence of every set', async () => {
    const r = await cli(['models', 'list', ...shared]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/spliceai\s+spliceai\s+10000\s+5\s+698,787\s+CC BY-NC 4.0/);
    expect(r.stdout).toMatch(/openspliceai\s+openspliceai-mane\s+80\s+5\s+93,763\s+GPL-3.0/);
  });

  it('show spliceai gives the licence, architecture and five members', async () => {
    const r = await cli(['models', 'show', 'spliceai', ...shared]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^licence\s+CC BY-NC 4.0$/m);
    expect(r.stdout).toMatch(/^context\s+10000 nt \(5000 on each side\)$/m);
    expect(r.stdout.match(/^spliceai[1-5]\s+10000\s+3131720/gm)).toHaveLength(5);
  });

  it('show openspliceai asks for --set when two species share the largest context', async () => {
    const r = await cli(['models', 'show', 'openspliceai', ...shared]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: 2 openspliceai sets match: .*\nhint: choose one with --set \(openspliceai-mane or openspliceai-mouse\)\n$/);
    const mane = await cli(['models', 'show', 'openspliceai', '--set', 'openspliceai-mane', '--context', '80', ...shared]);
    expect(mane.stdout).toMatch(/^licence\s+GPL-3.0$/m);
  });

  it('validate passes (exit 0) and recommends indexing, since the folder has no metadata', async () => {
    const r = await cli(['models', 'validate', ...shared]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`valid: 7 set(s) under ${MODELS_DIR}`);
    expect(r.stdout).toContain(`recommendation: record checksums and provenance with: metaspliceai models index ${join(MODELS_DIR, 'spliceai')}`);
  });

  it('health runs the 80 nt OpenSpliceAI ensemble on the canonical input (exit 0) and shows the licence', async () => {
    const r = await cli(['models', 'health', 'openspliceai', '--set', 'openspliceai-mane', '--context', '80', ...shared]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok\s+openspliceai\/openspliceai-mane\/80 /m);
    expect(r.stdout).toMatch(/ok\s+normalised: /);
    expect(r.stdout).toMatch(/licence: GPL-3.0/);
  });

  it('index writes model_info.json with sha256 in a temporary copy; validate then checks the checksums', async () => {
    const { root, folder } = await copyOf80nt('link');
    const r = await cli(['models', 'index', '--models-dir', root, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).written).toEqual([{ set: 'openspliceai/openspliceai-mane/80', path: join(folder, 'metadata', 'model_info.json'), files: 5 }]);
    const info = JSON.parse(await fs.readFile(join(folder, 'metadata', 'model_info.json'), 'utf8'));
    expect(info).toMatchObject({
      adapter: 'openspliceai',
      setName: 'openspliceai-mane',
      context: 80,
      license: 'GPL-3.0',
      species: 'mane',
      seeds: [10, 11, 12, 13, 14],
    });
    expect(info.files[0]).toEqual({
      path: 'model_80nt_rs10.pt',
      sha256: '894594d18be6d3e339d76b9698accf4071bd2f0f32f40c52a2c1b848d1cef9f4',
      size: 397410,
      memberId: 'rs10',
    });
    const valid = await cli(['models', 'validate', '--models-dir', root]);
    expect(valid.code).toBe(0);
    expect(valid.stdout).not.toContain('recommendation: record checksums');
  });
});

describe('models validate on broken trees', () => {
  it('names a truncated .pt and a 400 nt checkpoint saved under an 80 nt name, and exits 1', async () => {
    const { root, folder } = await copyOf80nt('copy');
    const truncated = join(folder, 'model_80nt_rs11.pt');
    await fs.writeFile(truncated, (await fs.readFile(truncated)).subarray(0, 100_000));
    const mislabelled = join(folder, 'model_80nt_rs15.pt');
    await fs.copyFile(join(MODELS_DIR, MANE, '400nt', 'model_400nt_rs10.pt'), mislabelled);

    const r = await cli(['models', 'validate', '--models-dir', root]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^INVALID\s+openspliceai\/openspliceai-mane\/80$/m);
    expect(r.stdout).toContain(`error: ${truncated}: expected a zip archive`);
    expect(r.stdout).toContain('error: openspliceai/openspliceai-mane/80nt/model_80nt_rs15.pt: the name says context 80 but the weights are a 400 model');
    expect(r.stdout).toMatch(/\ninvalid\n$/);

    const json = JSON.parse((await cli(['models', 'validate', '--models-dir', root, '--json'])).stdout) as {
      valid: boolean;
      sets: { context: number; issues: { code: string; path?: string }[] }[];
    };
    expect(json.valid).toBe(false);
    const issues = json.sets.flatMap((s) => s.issues);
    expect(issues).toContainEqual(expect.objectContaining({ code: 'unreadable-member', path: truncated }));
    expect(issues).toContainEqual(expect.objectContaining({ code: 'context-mismatch', path: mislabelled }));
  });

  it('fails after index when a file changes, naming it', async () => {
    const { root, folder } = await copyOf80nt('copy');
    expect((await cli(['models', 'index', '--models-dir', root])).code).toBe(0);
    const file = join(folder, 'model_80nt_rs12.pt');
    const bytes = await fs.readFile(file);
    bytes[bytes.length - 10] ^= 1; // same size, other content
    await fs.chmod(file, 0o644);
    await fs.writeFile(file, bytes);
    const r = await cli(['models', 'validate', '--models-dir', root]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/error: openspliceai\/openspliceai-mane\/80nt\/model_80nt_rs12.pt: sha256 [0-9a-f]{64} differs from model_info.json's ae201087/);
  });

  it('health fails (exit 1) on a set with a truncated member, and show still lists it', async () => {
    const { root, folder } = await copyOf80nt('copy');
    const truncated = join(folder, 'model_80nt_rs13.pt');
    await fs.writeFile(truncated, (await fs.readFile(truncated)).subarray(0, 5000));
    const health = await cli(['models', 'health', 'openspliceai', '--models-dir', root]);
    expect(health.code).toBe(1);
    expect(health.stdout).toMatch(/FAIL load: .*model_80nt_rs13.pt/);
    const show = await cli(['models', 'show', 'openspliceai', '--models-dir', root]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/rs13\s+unreadable/);
  });
});

describe('models index <set folder> outside the models folder', () => {
  it('names the set from the whole path, as discovery from the models root does', async () => {
    const { root, folder } = await copyOf80nt('link');
    const { METASPLICEAI_MODELS_DIR: _unset, ...env } = process.env;
    const r = await cli(['models', 'index', folder], { cwd: tmpdir(), env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(openspliceai/openspliceai-mane/80, 5 files)');
    const validate = await cli(['models', 'validate', 'openspliceai', '--models-dir', root]);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toMatch(/^ok\s+openspliceai\/openspliceai-mane\/80$/m);
    expect(validate.stdout).not.toContain('recommendation: record checksums');
  });
});
