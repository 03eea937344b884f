import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODELS_DIR, REPO } from './fixtures.js';

// The built CLI and the built adapter, as a user would run them: no edit to core or the CLI.
const BIN = resolve(REPO, 'packages/cli/dist/bin.js');
const ADAPTER = resolve(REPO, 'examples/adapter-pwm/dist/index.js');

function metaspliceai(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  for (const built of [BIN, ADAPTER]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: run pnpm build first (pnpm test does)`);
  }
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: REPO }, (error, stdout, stderr) => {
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('the PWM adapter from the metaspliceai CLI (--adapter <path>)', () => {
  const plug = ['--adapter', ADAPTER, '--models-dir', MODELS_DIR];

  it('models list sees its set', async () => {
    const r = await metaspliceai(['models', 'list', '--json', ...plug]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.modelSets).toEqual([
      expect.objectContaining({
        adapter: 'pwm',
        name: 'pwm-human',
        context: 50,
        license: 'MIT',
        members: [expect.objectContaining({ memberId: 'splice-sites' })],
      }),
    ]);
    expect(out.problems).toEqual([]);
  });

  it('models health pwm passes', async () => {
    const r = await metaspliceai(['models', 'health', 'pwm', '--json', ...plug]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout).reports[0];
    expect(report).toMatchObject({ ok: true, adapter: 'pwm', setName: 'pwm-human', context: 50, backend: 'js', device: 'cpu' });
  });

  it('models index then validate work on a copy of its models folder', async () => {
    const root = await fs.mkdtemp(join(tmpdir(), 'pwm-cli-'));
    try {
      await fs.cp(MODELS_DIR, root, { recursive: true });
      const args = ['--adapter', ADAPTER, '--models-dir', root];
      expect((await metaspliceai(['models', 'index', ...args, '--golden'])).code).toBe(0);
      const info = JSON.parse(await fs.readFile(join(root, 'pwm-human/50nt/metadata/model_info.json'), 'utf8'));
      expect(info).toMatchObject({ adapter: 'pwm', setName: 'pwm-human', species: 'human', license: 'MIT' });
      const valid = await metaspliceai(['models', 'validate', ...args]);
      expect(valid.code, valid.stdout).toBe(0);
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });

  it('predict --model pwm labels a donor at the last exonic base', async () => {
    const exonThenIntron = 'CAGGCTGCTGGAGAAGGTGAGTCCTGGGCTTC'; // ...GAG|GTGAGT...: G at 16 is the last exonic base
    const r = await metaspliceai(['predict', '--model', 'pwm', ...plug, '--sequence', exonThenIntron, '--format', 'tsv']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'));
    expect(rows).toHaveLength(exonThenIntron.length);
    const best = rows.reduce((a, b) => (Number(b[4]) > Number(a[4]) ? b : a));
    expect(best[1]).toBe('16');
  });
});
