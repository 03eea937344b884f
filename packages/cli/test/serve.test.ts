import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, test } from 'vitest';
import { MODELS_DIR, SHARED } from '../../../test-support/shared.js';
import { runCli } from '../src/index.js';
import { cli } from './helpers.js';

const FASTA = resolve(SHARED, 'data', 'chr10_hg19_test.fa');
const TUBB8 = resolve(SHARED, 'fixtures', 'tubb8_grch37.tsv');
const dir = mkdtempSync(join(tmpdir(), 'msa-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('metaspliceai serve', () => {
  test('serves SpliceAI-lookup answers on loopback with a cache, and stops on SIGTERM with exit 0', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    stdout.resume();
    const args = [
      'serve',
      '--port',
      '0',
      '--genome',
      `37=${FASTA}`,
      '--annotation',
      `37=${TUBB8}`,
      '--cache',
      join(dir, 'cache'),
      '--models-dir',
      MODELS_DIR,
      '--threads',
      '2',
    ];
    const done = runCli(args, { stdout, stderr, stdin, cwd: dir, env: process.env, stderrIsTTY: false });
    const deadline = Date.now() + 170_000;
    while (!/listening on (http:\/\/\S+)/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const url = /listening on (http:\/\/\S+)/.exec(err)![1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(err).not.toMatch(/warning: --host/);
    const body = (await (await fetch(`${url}/spliceai/?hg=37&variant=10-94077-A-C&distance=500&mask=0`)).json()) as { scores: Record<string, unknown>[] };
    expect(['AG', 'AL', 'DG', 'DL'].map((k) => body.scores[0][`DS_${k}`])).toEqual(['0.15', '0.27', '0.00', '0.05']);
    expect(['AG', 'AL', 'DG', 'DL'].map((k) => body.scores[0][`DP_${k}`])).toEqual([89, -23, -267, 193]);
    const health = (await (await fetch(`${url}/health`)).json()) as { cache: { entries: number }; genomes: { hg: string }[] };
    expect(health.cache.entries).toBe(1);
    expect(health.genomes.map((g) => g.hg)).toEqual(['37']);
    expect((await fetch(`${url}/`)).headers.get('content-type')).toMatch(/text\/html/);
    process.emit('SIGTERM');
    expect(await done).toBe(0);
    expect(err).toMatch(/stopping/);
  });

  test('usage errors: no genome, a genome without its annotation, a bad pair; a non-loopback host is warned about', async () => {
    expect((await cli(['serve'])).code).toBe(2);
    const lone = await cli(['serve', '--genome', `37=${FASTA}`]);
    expect(lone.code).toBe(2);
    expect(lone.stderr).toMatch(/--genome 37= has no --annotation/);
    const bad = await cli(['serve', '--genome', FASTA, '--annotation', `37=${TUBB8}`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/<hg>=<file>/);
    // Fails on the missing FASTA before binding anything, after the warning.
    const open = await cli(['serve', '--host', '0.0.0.0', '--genome', `37=${join(dir, 'missing.fa')}`, '--annotation', `37=${TUBB8}`]);
    expect(open.code).not.toBe(0);
    expect(open.stderr).toMatch(/warning: --host 0\.0\.0\.0: the server is reachable from other machines/);
    expect(open.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('metaspliceai serve --pangolin', () => {
  test("serves /pangolin/ beside /spliceai/ from a tagged GTF, with upstream pangolin.py's numbers", async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    stdout.resume();
    const gtf = resolve(SHARED, 'fixtures', 'pangolin', 'tubb8_grch37.gtf');
    const args = [
      'serve',
      '--port',
      '0',
      '--pangolin',
      '--genome',
      `37=${FASTA}`,
      '--annotation',
      `37=${gtf}`,
      '--no-cache',
      '--models-dir',
      MODELS_DIR,
      '--threads',
      '2',
    ];
    const done = runCli(args, { stdout, stderr, stdin: new PassThrough(), cwd: dir, env: process.env, stderrIsTTY: false });
    const deadline = Date.now() + 170_000;
    while (!/listening on (http:\/\/\S+)|error:/.test(err) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const url = /listening on (http:\/\/\S+)/.exec(err)?.[1];
    expect(url, err).toBeDefined();
    const p = (await (await fetch(`${url}/pangolin/?hg=37&variant=10-94853-C-G&distance=50&mask=0`)).json()) as { scores: Record<string, unknown>[] };
    expect([p.scores[0].DS_SG, p.scores[0].DP_SG, p.scores[0].DS_SL, p.scores[0].DP_SL]).toEqual(['0.38', -10, '-0.86', -1]);
    const s = (await (await fetch(`${url}/spliceai/?hg=37&variant=10-94077-A-C&distance=500`)).json()) as { scores: Record<string, unknown>[] };
    expect(s.scores[0]).toMatchObject({ DS_AL: '0.27', t_id: 'NM_177987', t_priority: 'C' });
    process.emit('SIGTERM');
    expect(await done).toBe(0);
  });

  test('--pangolin with only SpliceAI tables is a usage error', async () => {
    const r = await cli(['serve', '--pangolin', '--genome', `37=${FASTA}`, '--annotation', `37=${TUBB8}`, '--no-cache', '--models-dir', MODELS_DIR]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--pangolin needs at least one --annotation that is a GTF\/GFF3/);
  });
});
