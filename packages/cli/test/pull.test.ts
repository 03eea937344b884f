import { existsSync, promises as fs } from 'node:fs';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OPENSPLICEAI_CATALOGUE } from '@metaspliceai/adapter-openspliceai';
import { sha256File } from '@metaspliceai/core';
import { type ModelServer, startModelServer } from '../../../test-support/model-server.js';
import { MODELS_DIR } from '../../../test-support/shared.js';
import { runCli } from '../src/index.js';
import { bin, cli } from './helpers.js';

// `models pull` end to end against a mirror of the shared models folder on 127.0.0.1; nothing
// leaves this machine. The server can corrupt a file, cut a connection once, ignore Range and
// redirect (paths under /redirect/), like the real hosts can.

const SET_DIR = 'openspliceai/openspliceai-mane/80nt';
const PUBLISHED = OPENSPLICEAI_CATALOGUE.find((k) => k.setName === 'openspliceai-mane' && k.context === 80)!;
const names = PUBLISHED.files.map((f) => f.name);
const served = (name: string) => `${SET_DIR}/${name}`;
const pick = ['openspliceai', '--set', 'openspliceai-mane', '--context', '80'];

let server: ModelServer;
let root: string;
const folder = () => join(root, SET_DIR);
const pull = (...extra: string[]) => cli(['models', 'pull', ...pick, '--from', server.url, '--models-dir', root, ...extra]);

beforeAll(async () => {
  server = await startModelServer(MODELS_DIR);
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-pull-'));
  server.requests.length = 0;
  server.corrupt.clear();
  server.cutAfter.clear();
  server.ignoreRange = false;
});

describe('models pull', () => {
  it('downloads a published set, verifies it, writes model_info.json, and models validate passes', async () => {
    const r = await pull('--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      adapter: 'openspliceai',
      setName: 'openspliceai-mane',
      context: 80,
      license: 'GPL-3.0',
      from: server.url,
      valid: true,
      issues: [],
    });
    expect(out.files.map((f: { name: string; status: string }) => [f.name, f.status])).toEqual(names.map((n) => [n, 'downloaded']));
    expect((await fs.readdir(folder())).sort()).toEqual(['metadata', ...names]);
    for (const f of PUBLISHED.files) expect(await sha256File(join(folder(), f.name))).toBe(f.sha256);

    const info = JSON.parse(await fs.readFile(join(folder(), 'metadata', 'model_info.json'), 'utf8'));
    expect(info).toMatchObject({
      adapter: 'openspliceai',
      setName: 'openspliceai-mane',
      context: 80,
      license: 'GPL-3.0',
      species: 'mane',
      seeds: [10, 11, 12, 13, 14],
      source: { url: 'https://github.com/Kuanhao-Chao/OpenSpliceAI', description: `pulled from the mirror ${server.url}` },
      citation: PUBLISHED.citation,
    });
    expect(info.files).toEqual(PUBLISHED.files.map((f, i) => ({ path: f.name, sha256: f.sha256, size: f.size, memberId: `rs${10 + i}` })));

    const validate = await cli(['models', 'validate', '--models-dir', root]);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toMatch(/^ok\s+openspliceai\/openspliceai-mane\/80$/m);
    expect(validate.stdout).not.toContain('recommendation: record checksums');
  });

  it('prints the licence, a table of files and the citation; a rerun skips the files present', async () => {
    const r = await pull();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pulling openspliceai openspliceai-mane at 80 nt: 5 files, 2.0 MB, into /);
    expect(r.stdout).toMatch(/^licence: GPL-3.0 /m);
    expect(r.stdout).toMatch(/^downloaded\s+model_80nt_rs10.pt\s+397,410\s+894594d18be6d3e3…$/m);
    expect(r.stdout).toMatch(/^valid: openspliceai openspliceai-mane at 80 nt is ready$/m);
    expect(r.stdout).toMatch(/^cite: Chao KH/m);
    expect(r.stderr).toBe(''); // no TTY: no progress bar

    server.requests.length = 0;
    const again = await pull();
    expect(again.code).toBe(0);
    expect(again.stdout.match(/^present\s+model_80nt_rs1\d.pt/gm)).toHaveLength(5);
    expect(server.requests).toEqual([]);
  });

  it('rejects a corrupted file with one line and a hint, leaving no file and no .part for it', async () => {
    server.corrupt.add(served(names[2]));
    const r = await pull();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: ${join(folder(), names[2]).replace(/\./g, '\\.')}: sha256 mismatch, expected ${PUBLISHED.files[2].sha256}, got [0-9a-f]{64} \\(from ${server.url}${served(names[2])}\\)\nhint: .+\n$`,
      ),
    );
    // Nothing of the set is installed, so nothing can run on 2 of its 5 members.
    expect(existsSync(folder())).toBe(false);
    const list = await cli(['models', 'list', '--json', '--models-dir', root]);
    expect(JSON.parse(list.stdout).modelSets).toEqual([]);
    expect((await cli(['models', 'validate', 'openspliceai', '--models-dir', root])).code).toBe(1);

    server.corrupt.clear(); // the mirror is fixed: the next pull completes the set from what was verified
    const fixed = await pull('--json');
    expect(fixed.code).toBe(0);
    expect(JSON.parse(fixed.stdout).files.map((f: { status: string }) => f.status)).toEqual(['resumed', 'resumed', 'downloaded', 'downloaded', 'downloaded']);
    expect((await fs.readdir(root)).sort()).toEqual(['openspliceai']);
  });

  it('resumes a download cut off in the middle with a Range request', async () => {
    server.cutAfter.set(served(names[1]), 200_000);
    const r = await pull('--json');
    expect(r.code).toBe(0);
    expect(server.requests.filter((q) => q.path === served(names[1]))).toEqual([
      { path: served(names[1]), status: 200 },
      { path: served(names[1]), range: 'bytes=200000-', status: 206 },
    ]);
    expect(await sha256File(join(folder(), names[1]))).toBe(PUBLISHED.files[1].sha256);
    expect(existsSync(join(folder(), `${names[1]}.part`))).toBe(false);
  });

  it('resumes the .part an interrupted earlier run left behind, also through a redirect', async () => {
    await fs.mkdir(folder(), { recursive: true });
    const bytes = await fs.readFile(join(MODELS_DIR, SET_DIR, names[3]));
    await fs.writeFile(join(folder(), `${names[3]}.part`), bytes.subarray(0, 123_456));
    const r = await cli(['models', 'pull', ...pick, '--from', `${server.url}redirect/`, '--models-dir', root, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).files[3]).toMatchObject({ name: names[3], status: 'resumed' });
    expect(server.requests).toContainEqual({ path: served(names[3]), range: 'bytes=123456-', status: 206 });
    expect(await sha256File(join(folder(), names[3]))).toBe(PUBLISHED.files[3].sha256);
  });

  it('starts a file over when the server ignores the Range', async () => {
    server.ignoreRange = true;
    await fs.mkdir(folder(), { recursive: true });
    await fs.writeFile(join(folder(), `${names[0]}.part`), Buffer.alloc(1000));
    const r = await pull('--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).files[0]).toMatchObject({ status: 'downloaded' });
    expect(server.requests[0]).toEqual({ path: served(names[0]), range: 'bytes=1000-', status: 200 });
    expect(await sha256File(join(folder(), names[0]))).toBe(PUBLISHED.files[0].sha256);
  });

  it('copies from a mirror folder (--from <dir>, relative to the working folder)', async () => {
    const r = await cli(['models', 'pull', ...pick, '--from', '.', '--models-dir', root], { cwd: MODELS_DIR });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`source:  ${MODELS_DIR}`);
    for (const f of PUBLISHED.files) expect(await sha256File(join(folder(), f.name))).toBe(f.sha256);
    expect((await cli(['models', 'validate', '--models-dir', root])).code).toBe(0);
  });

  it('runs as the built bin', async () => {
    const r = await bin(['models', 'pull', ...pick, '--from', MODELS_DIR, '--models-dir', root, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ license: 'GPL-3.0', valid: true });
  });

  it('draws a progress bar on stderr only for a terminal and not with --quiet', async () => {
    const onTerminal = async (...extra: string[]) => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const err: Buffer[] = [];
      stderr.on('data', (c: Buffer) => err.push(c));
      stdout.resume();
      const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-pull-'));
      const args = ['models', 'pull', ...pick, '--from', server.url, '--models-dir', dir, ...extra];
      const code = await runCli(args, { stdout, stderr, stdin: new PassThrough(), cwd: dir, env: process.env, stderrIsTTY: true });
      return { code, stderr: Buffer.concat(err).toString() };
    };
    const drawn = await onTerminal();
    expect(drawn.code).toBe(0);
    expect(drawn.stderr).toContain('\r\x1b[2K');
    expect(drawn.stderr).toMatch(/downloaded\s+model_80nt_rs14.pt\n/);
    expect(drawn.stderr).toMatch(/pull: 1,987,050 bytes in /);
    const quiet = await onTerminal('--quiet');
    expect(quiet).toEqual({ code: 0, stderr: '' });
  });

  it('lists the published sets when none matches (exit 1) and refuses bad flags (exit 2)', async () => {
    const missing = await cli(['models', 'pull', 'openspliceai', '--set', 'openspliceai-mane', '--context', '5000', '--models-dir', root]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'error: openspliceai publishes no set openspliceai-mane at context 5000; published: openspliceai-mane at 80, 400, 2000, 10000; openspliceai-mouse at 10000\n' +
        'hint: pick one of the published sets with --set and --context\n',
    );
    const ambiguous = await cli(['models', 'pull', 'openspliceai', '--models-dir', root]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toMatch(
      /^error: 2 published openspliceai sets match: openspliceai-mane at 10000; openspliceai-mouse at 10000\nhint: choose one with --set/,
    );
    const unknown = await cli(['models', 'pull', 'nosuch', '--models-dir', root]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: no adapter "nosuch" is registered; registered: spliceai, openspliceai, pangolin\n/);

    const badContext = await cli(['models', 'pull', 'openspliceai', '--context', 'big', '--models-dir', root]);
    expect(badContext.code).toBe(2);
    expect(badContext.stderr).toMatch(/--context takes a whole number/);
    const badFrom = await cli(['models', 'pull', ...pick, '--from', join(root, 'nowhere'), '--models-dir', root]);
    expect(badFrom.code).toBe(2);
    expect(badFrom.stderr).toMatch(/^error: --from .*nowhere: not an http\(s\) URL and not a folder\nhint: /);
    expect(await fs.readdir(root)).toEqual([]);
  });

  it('reports a mirror without the file as one line (exit 1)', async () => {
    const r = await cli(['models', 'pull', ...pick, '--from', `${server.url}empty/`, '--models-dir', root]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: .*model_80nt_rs10.pt: HTTP 404 Not Found from http:\/\/127.0.0.1:\d+\/empty\/openspliceai\/openspliceai-mane\/80nt\/model_80nt_rs10.pt\nhint: the file is not at that address/,
    );
    expect(existsSync(folder())).toBe(false);
  });

  it('installs nothing from a mirror that lacks one member, and keeps an earlier complete set as it was', async () => {
    const mirror = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-mirror-'));
    await fs.mkdir(join(mirror, SET_DIR), { recursive: true });
    for (const n of names.filter((n) => n !== names[3])) await fs.copyFile(join(MODELS_DIR, SET_DIR, n), join(mirror, SET_DIR, n));
    const partial = await cli(['models', 'pull', ...pick, '--from', mirror, '--models-dir', root]);
    expect(partial.code).toBe(1);
    expect(partial.stderr).toContain(`the mirror has no file ${join(mirror, SET_DIR, names[3])}`);
    expect(existsSync(folder())).toBe(false);

    expect((await pull()).code).toBe(0);
    await fs.rm(join(folder(), names[3])); // a member lost from a complete set, and the mirror lacks it too
    const before = await fs.readFile(join(folder(), 'metadata', 'model_info.json'), 'utf8');
    const failed = await cli(['models', 'pull', ...pick, '--from', mirror, '--models-dir', root]);
    expect(failed.code).toBe(1);
    expect((await fs.readdir(folder())).sort()).toEqual(['metadata', ...names.filter((n) => n !== names[3])]);
    expect(await fs.readFile(join(folder(), 'metadata', 'model_info.json'), 'utf8')).toBe(before);
  });
});
