import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MODELS_DIR, REPO, SHARED } from '../../../test-support/shared.js';

/** Runs an example script with node, as a user would, against the built packages. */
function example(script: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  for (const pkg of ['core', 'adapter-openspliceai', 'adapter-spliceai']) {
    const built = resolve(REPO, 'packages', pkg, 'dist/index.js');
    if (!existsSync(built)) throw new Error(`${built} is missing: run pnpm build first (pnpm test does)`);
  }
  return new Promise((done) => {
    execFile(
      process.execPath,
      [resolve(REPO, 'examples/library', script), ...args],
      { cwd: REPO, env: { ...process.env, METASPLICEAI_MODELS_DIR: MODELS_DIR, ORT_DISABLE_TELEMETRY: '1' } },
      (error, stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('library examples (examples/library/*.mjs)', () => {
  it('discover.mjs lists the model sets with context, members and licence', async () => {
    const r = await example('discover.mjs');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\d+ model set\(s\) under /);
    expect(r.stdout).toMatch(/^openspliceai\topenspliceai-mane\t80 nt\t5 member\(s\)\tSpliceNet-80 .*\tGPL-3\.0$/m);
  });

  it('validate.mjs reports every set and exits 0 when they are valid', async () => {
    const r = await example('validate.mjs', ['openspliceai']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^ok\topenspliceai\/openspliceai-mane\/80$/m);
    expect(r.stdout).toMatch(/^valid: \d+ set\(s\)$/m);
  });

  it('predict.mjs finds the acceptor and donor of TUBB8 exon 3 where SpliceAI labels them', async () => {
    const r = await example('predict.mjs');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^model\topenspliceai\/openspliceai-mane\/80 \(5 members, licence GPL-3\.0\)$/m);
    const site = (label: string) => {
      const [, position, p] = new RegExp(`^${label}\\t(\\d+)\\t([\\d.]+)$`, 'm').exec(r.stdout)!;
      return { position: Number(position), p: Number(p) };
    };
    expect(site('acceptor').position).toBe(56);
    expect(site('donor').position).toBe(166);
    expect(site('acceptor').p).toBeGreaterThan(0.5);
    expect(site('donor').p).toBeGreaterThan(0.5);
  });

  it("score.mjs annotates a tiny VCF with the reference's delta scores and keeps unscorable records", async () => {
    const cases = JSON.parse(readFileSync(resolve(SHARED, 'fixtures/delta_cases_openspliceai.json'), 'utf8')).cases as {
      pos: number;
      model: { context: number };
      dist: number;
      mask: number;
      expected: string[];
    }[];
    const reference = cases.find((c) => c.model.context === 80 && c.pos === 94665 && c.dist === 50 && c.mask === 0)!;
    const r = await example('score.mjs');
    expect(r.code, r.stderr).toBe(0);
    const records = r.stdout.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(records).toEqual([`10\t94665\ttubb8_exon3_acceptor\tC\tA\t.\t.\tSpliceAI=${reference.expected.join(',')}`, '10\t100000\tintergenic\tT\tC\t.\t.\t.']);
    expect(r.stdout).toMatch(/^##INFO=<ID=SpliceAI,/m);
    expect(r.stderr).toMatch(/outside genes/);
    expect(r.stderr).toMatch(/scored 1 of 2 record\(s\)/);
  });
});
