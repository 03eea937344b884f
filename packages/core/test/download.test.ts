import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ModelServer, startModelServer } from '../../../test-support/model-server.js';
import { MODELS_DIR } from '../../../test-support/shared.js';
import {
  AmbiguousModelError,
  createModelManager,
  downloadFile,
  DownloadError,
  type KnownModelSet,
  loadModelInfo,
  ModelNotFoundError,
  type PulledFile,
  pullModelSet,
  selectKnownModelSet,
} from '../src/index.js';
import { stagingDirectory } from '../src/download/pull.js';
import { partPath } from '../src/download/download.js';
import { PULL_STAGING_DIR } from '../src/discovery/walk.js';
import { createMockAdapter } from '../src/testing/mock-adapter.js';

const SET_DIR = 'openspliceai/openspliceai-mane/80nt';
const names = [10, 11, 12, 13, 14].map((seed) => `model_80nt_rs${seed}.pt`);
const served = (name: string) => `${SET_DIR}/${name}`;
const bytesOf = (name: string) => readFileSync(join(MODELS_DIR, SET_DIR, name));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The five 80 nt OpenSpliceAI files as a catalogue entry (checksums of the shared copies). */
function knownSet(base: string): KnownModelSet {
  return {
    setName: 'openspliceai-mane',
    context: 80,
    license: 'GPL-3.0',
    sourceUrl: 'https://example.invalid/openspliceai',
    citation: 'a citation',
    species: 'mane',
    directory: SET_DIR,
    files: names.map((name) => {
      const bytes = bytesOf(name);
      return { name, url: `${base}${served(name)}`, sha256: sha256(bytes), size: bytes.length };
    }),
  };
}

let server: ModelServer;
let dir: string;
beforeAll(async () => {
  server = await startModelServer(MODELS_DIR);
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-download-'));
  server.requests.length = 0;
  server.corrupt.clear();
  server.cutAfter.clear();
  server.ignoreRange = false;
});

describe('downloadFile', () => {
  const name = names[0];
  const bytes = bytesOf(name);
  const fetchOne = (extra: Partial<Parameters<typeof downloadFile>[0]> = {}) =>
    downloadFile({ source: `${server.url}${served(name)}`, dest: join(dir, name), sha256: sha256(bytes), size: bytes.length, retryDelayMs: 0, ...extra });

  it('downloads, verifies and renames into place, leaving no .part', async () => {
    let last = 0;
    const result = await fetchOne({ onProgress: (p) => (last = p.received) });
    expect(result).toMatchObject({ size: bytes.length, sha256: sha256(bytes), resumedFrom: 0, retries: 0 });
    expect(sha256(readFileSync(join(dir, name)))).toBe(sha256(bytes));
    expect(existsSync(partPath(join(dir, name)))).toBe(false);
    expect(last).toBe(bytes.length);
  });

  it('follows redirects', async () => {
    await fetchOne({ source: `${server.url}redirect/${served(name)}` });
    expect(server.requests.map((r) => r.status)).toEqual([302, 200]);
    expect(sha256(readFileSync(join(dir, name)))).toBe(sha256(bytes));
  });

  it('rejects a corrupted file, naming it and both checksums, and leaves nothing behind', async () => {
    server.corrupt.add(served(name));
    const error = await fetchOne().catch((e: unknown) => e);
    expect(DownloadError.isInstance(error)).toBe(true);
    const message = (error as DownloadError).message;
    expect(message).toContain(join(dir, name));
    expect(message).toContain(`expected ${sha256(bytes)}`);
    const corrupted = Buffer.from(bytes);
    corrupted[corrupted.length >> 1] ^= 0xff;
    expect(message).toContain(`got ${sha256(corrupted)}`);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('refuses a body longer than the expected size before writing it all', async () => {
    const error = await fetchOne({ size: 1000 }).catch((e: unknown) => e);
    expect(DownloadError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/more than the expected 1000 bytes/);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('refuses a body shorter than the expected size and keeps nothing', async () => {
    const error = await fetchOne({ size: bytes.length + 10 }).catch((e: unknown) => e);
    expect(DownloadError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`sent ${bytes.length} bytes, the published file has ${bytes.length + 10}`));
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('gives up on a connection that stalls, keeping what arrived', async () => {
    const stalled = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': bytes.length });
      res.write(bytes.subarray(0, 1000)); // then nothing
    });
    await new Promise<void>((ok) => stalled.listen(0, '127.0.0.1', ok));
    try {
      const { port } = stalled.address() as AddressInfo;
      const error = await fetchOne({ source: `http://127.0.0.1:${port}/x`, idleTimeoutMs: 200, retries: 0 }).catch((e: unknown) => e);
      expect(DownloadError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/no data for 0.2 s/);
      expect((await fs.stat(partPath(join(dir, name)))).size).toBe(1000);
    } finally {
      stalled.closeAllConnections();
      stalled.close();
    }
  });

  it('keeps the .part of a dropped connection and resumes it with a Range request on the next call', async () => {
    server.cutAfter.set(served(name), 150_000);
    const error = await fetchOne({ retries: 0 }).catch((e: unknown) => e);
    expect(DownloadError.isInstance(error)).toBe(true);
    expect((error as DownloadError).hint).toMatch(/150000 bytes are kept .*run the same command again to resume/);
    expect(existsSync(join(dir, name))).toBe(false);
    expect((await fs.stat(partPath(join(dir, name)))).size).toBe(150_000);

    const result = await fetchOne();
    expect(result.resumedFrom).toBe(150_000);
    expect(server.requests.at(-1)).toEqual({ path: served(name), range: 'bytes=150000-', status: 206 });
    expect(sha256(readFileSync(join(dir, name)))).toBe(sha256(bytes));
    expect(existsSync(partPath(join(dir, name)))).toBe(false);
  });

  it('resumes within one call after a dropped connection, also through a redirect', async () => {
    server.cutAfter.set(served(name), 100_000);
    const result = await fetchOne({ source: `${server.url}redirect/${served(name)}` });
    expect(result.retries).toBe(1);
    expect(server.requests.filter((r) => r.status !== 302)).toEqual([
      { path: served(name), status: 200 },
      { path: served(name), range: 'bytes=100000-', status: 206 },
    ]);
    expect(sha256(readFileSync(join(dir, name)))).toBe(sha256(bytes));
  });

  it('starts over when the server ignores the Range and answers 200', async () => {
    server.ignoreRange = true;
    await fs.writeFile(partPath(join(dir, name)), Buffer.alloc(5000, 7)); // wrong bytes: appending would corrupt
    const result = await fetchOne();
    expect(server.requests).toEqual([{ path: served(name), range: 'bytes=5000-', status: 200 }]);
    expect(result).toMatchObject({ sha256: sha256(bytes), resumedFrom: 0 });
    expect(sha256(readFileSync(join(dir, name)))).toBe(sha256(bytes));
  });

  it('downloads afresh when a resumed .part turns out to hold bad bytes', async () => {
    await fs.writeFile(partPath(join(dir, name)), Buffer.alloc(5000, 7));
    expect((await fetchOne()).resumedFrom).toBe(0);
    expect(server.requests).toEqual([
      { path: served(name), range: 'bytes=5000-', status: 206 },
      { path: served(name), status: 200 },
    ]);
    expect(sha256(readFileSync(join(dir, name)))).toBe(sha256(bytes));
  });

  it('verifies a complete .part without asking the server again', async () => {
    await fs.writeFile(partPath(join(dir, name)), bytes);
    const result = await fetchOne();
    expect(server.requests).toEqual([]);
    expect(result.resumedFrom).toBe(bytes.length);
  });

  it('reports a 404 at once, without retries', async () => {
    const error = await fetchOne({ source: `${server.url}nope/${name}` }).catch((e: unknown) => e);
    expect(DownloadError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/HTTP 404/);
    expect(server.requests).toHaveLength(1);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('copies from a local folder, resuming from an offset', async () => {
    await fs.writeFile(partPath(join(dir, name)), bytes.subarray(0, 12_345));
    const result = await fetchOne({ source: join(MODELS_DIR, SET_DIR, name) });
    expect(result.resumedFrom).toBe(12_345);
    expect(sha256(readFileSync(join(dir, name)))).toBe(sha256(bytes));
  });
});

describe('pullModelSet', () => {
  const adapter = createMockAdapter();

  it('pulls every file of a set, writes model_info.json, and skips present files on a rerun', async () => {
    const set = knownSet(server.url);
    const seen: PulledFile[] = [];
    let progress = { received: 0, total: 0 };
    const result = await pullModelSet(set, { adapter, modelsDir: dir, onFile: (f) => seen.push(f), onProgress: (p) => (progress = p) });
    const folder = join(dir, SET_DIR);
    expect(result.directory).toBe(folder);
    expect(seen.map((f) => f.status)).toEqual(Array(5).fill('downloaded'));
    expect(progress).toMatchObject({ received: progress.total, total: set.files.reduce((n, f) => n + f.size, 0) });
    expect((await fs.readdir(folder)).sort()).toEqual(['metadata', ...names]);
    for (const f of set.files) expect(sha256(readFileSync(join(folder, f.name)))).toBe(f.sha256);

    // (the mock adapter's member id is the file name without .mock, so here the whole name)
    const info = await loadModelInfo(join(folder, 'metadata', 'model_info.json'));
    expect(info).toMatchObject({
      adapter: 'mock',
      setName: 'openspliceai-mane',
      context: 80,
      license: 'GPL-3.0',
      citation: 'a citation',
      species: 'mane',
      source: { url: 'https://example.invalid/openspliceai' },
      createdBy: '@metaspliceai/core pull',
    });
    expect(info.files).toEqual(set.files.map((f) => ({ path: f.name, sha256: f.sha256, size: f.size, memberId: f.name })));

    server.requests.length = 0;
    const again = await pullModelSet(set, { adapter, modelsDir: dir });
    expect(again.files.map((f) => f.status)).toEqual(Array(5).fill('present'));
    expect(server.requests).toEqual([]);
  });

  it('replaces a file of the right name with the wrong content', async () => {
    const set = knownSet(server.url);
    await fs.mkdir(join(dir, SET_DIR), { recursive: true });
    await fs.writeFile(join(dir, SET_DIR, names[2]), 'not the model');
    const result = await pullModelSet(set, { adapter, modelsDir: dir });
    expect(result.files.map((f) => f.status)).toEqual(['downloaded', 'downloaded', 'replaced', 'downloaded', 'downloaded']);
    expect(sha256(readFileSync(join(dir, SET_DIR, names[2])))).toBe(set.files[2].sha256);
  });

  it('reads from a mirror folder or a mirror URL laid out like the models folder', async () => {
    const set = { ...knownSet('https://example.invalid/'), files: knownSet('https://example.invalid/').files.slice(0, 2) };
    const fromDir = await pullModelSet(set, { adapter, modelsDir: join(dir, 'a'), from: MODELS_DIR });
    expect(fromDir.files.map((f) => f.source)).toEqual(names.slice(0, 2).map((n) => join(MODELS_DIR, SET_DIR, n)));
    expect(fromDir.info.source?.description).toBe(`pulled from the mirror ${MODELS_DIR}`);
    const fromUrl = await pullModelSet(set, { adapter, modelsDir: join(dir, 'b'), from: server.url.replace(/\/$/, '') });
    expect(fromUrl.files.map((f) => f.source)).toEqual(names.slice(0, 2).map((n) => `${server.url}${served(n)}`));
  });

  /** Every file under `root` with its sha256, for "nothing changed" checks. */
  async function snapshot(root: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const entry of await fs.readdir(root, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) out[join(entry.parentPath, entry.name).slice(root.length + 1)] = sha256(readFileSync(join(entry.parentPath, entry.name)));
    }
    return out;
  }

  it('installs nothing when a file is corrupt: the set folder never appears, discovery finds nothing, a rerun reuses the verified files', async () => {
    server.corrupt.add(served(names[1]));
    const error = await pullModelSet(knownSet(server.url), { adapter, modelsDir: dir }).catch((e: unknown) => e);
    expect(DownloadError.isInstance(error)).toBe(true);
    expect((error as Error).message.startsWith(`${join(dir, SET_DIR, names[1])}: sha256 mismatch`)).toBe(true);
    expect(existsSync(join(dir, SET_DIR))).toBe(false);
    expect(await fs.readdir(dir)).toEqual([PULL_STAGING_DIR]);
    expect((await fs.readdir(stagingDirectory(dir, SET_DIR))).sort()).toEqual([names[0]]);
    const found = await createModelManager({ modelsDir: dir })
      .register(createMockAdapter({ filePatterns: [/\.pt$/] }))
      .discover();
    expect(found.modelSets).toEqual([]);

    server.corrupt.clear();
    server.requests.length = 0;
    const result = await pullModelSet(knownSet(server.url), { adapter, modelsDir: dir });
    expect(result.files.map((f) => f.status)).toEqual(['resumed', 'downloaded', 'downloaded', 'downloaded', 'downloaded']);
    expect(server.requests.map((r) => r.path)).toEqual(names.slice(1).map(served));
    expect(await fs.readdir(dir)).toEqual(['openspliceai']); // the staging folder is gone
    expect((await fs.readdir(join(dir, SET_DIR))).sort()).toEqual(['metadata', ...names]);
    for (const f of result.set.files) expect(sha256(readFileSync(join(dir, SET_DIR, f.name)))).toBe(f.sha256);
  });

  it('installs nothing when the mirror lacks one member', async () => {
    const set = knownSet(server.url);
    const missing = { ...set, files: set.files.map((f, i) => (i === 3 ? { ...f, url: `${server.url}nope/${f.name}` } : f)) };
    await expect(pullModelSet(missing, { adapter, modelsDir: dir })).rejects.toThrow(/HTTP 404/);
    expect(existsSync(join(dir, SET_DIR))).toBe(false);
  });

  it('leaves an earlier complete set untouched when a pull that would replace a file fails', async () => {
    const set = knownSet(server.url);
    await pullModelSet(set, { adapter, modelsDir: dir });
    const before = await snapshot(join(dir, SET_DIR));
    // A newer release of one member (another sha256) that the mirror serves corrupted.
    const bytes = Buffer.from(bytesOf(names[2]));
    bytes[bytes.length >> 1] ^= 0xff;
    const newer = { ...set, files: set.files.map((f, i) => (i === 2 ? { ...f, sha256: sha256(bytes) } : f)) };
    const error = await pullModelSet(newer, { adapter, modelsDir: dir }).catch((e: unknown) => e);
    expect(DownloadError.isInstance(error)).toBe(true);
    expect(await snapshot(join(dir, SET_DIR))).toEqual(before);
  });

  it('moves only the set into place, not what earlier pulls left in staging', async () => {
    const staging = stagingDirectory(dir, SET_DIR);
    await fs.mkdir(join(staging, 'metadata'), { recursive: true });
    await fs.writeFile(join(staging, 'model_80nt_rs99.pt.part'), 'a file the catalogue no longer lists');
    await fs.writeFile(join(staging, 'metadata', 'stale.json'), '{}');
    await pullModelSet(knownSet(server.url), { adapter, modelsDir: dir });
    expect((await fs.readdir(join(dir, SET_DIR))).sort()).toEqual(['metadata', ...names]);
    expect(await fs.readdir(join(dir, SET_DIR, 'metadata'))).toEqual(['model_info.json']);
  });

  it('moves a .part an older pull left beside the final name into staging and resumes it', async () => {
    const bytes = bytesOf(names[0]);
    await fs.mkdir(join(dir, SET_DIR), { recursive: true });
    await fs.writeFile(partPath(join(dir, SET_DIR, names[0])), bytes.subarray(0, 10_000));
    const result = await pullModelSet(knownSet(server.url), { adapter, modelsDir: dir });
    expect(result.files[0].status).toBe('resumed');
    expect(server.requests).toContainEqual({ path: served(names[0]), range: 'bytes=10000-', status: 206 });
    expect((await fs.readdir(join(dir, SET_DIR))).sort()).toEqual(['metadata', ...names]);
  });

  it('refuses to run beside another pull of the same set, and takes over the lock of one that died', async () => {
    const set = knownSet(server.url);
    const lock = `${stagingDirectory(dir, SET_DIR)}.lock`;
    await fs.mkdir(dirname(lock), { recursive: true });
    await fs.writeFile(lock, `${process.pid}\n`); // this very process: alive
    const error = await pullModelSet(set, { adapter, modelsDir: dir }).catch((e: unknown) => e);
    expect(DownloadError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      `another pull of mock openspliceai-mane at 80 is running (process ${process.pid}); it stages its files in ${stagingDirectory(dir, SET_DIR)}`,
    );
    expect(server.requests).toEqual([]);

    const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!; // exited: its pid is free
    await fs.writeFile(lock, `${dead}\n`);
    const result = await pullModelSet(set, { adapter, modelsDir: dir });
    expect(result.files.map((f) => f.status)).toEqual(Array(5).fill('downloaded'));
    expect(await fs.readdir(dir)).toEqual(['openspliceai']);
  });

  it('refuses catalogue paths that leave the models folder', async () => {
    const set = knownSet(server.url);
    await expect(pullModelSet({ ...set, directory: '../outside' }, { adapter, modelsDir: dir })).rejects.toThrow(
      /must be a relative path inside the models folder/,
    );
    await expect(pullModelSet({ ...set, files: [{ ...set.files[0], name: '../x.pt' }] }, { adapter, modelsDir: dir })).rejects.toThrow(/plain file name/);
    expect(await fs.readdir(dir)).toEqual([]);
  });
});

describe('selectKnownModelSet', () => {
  const set = (setName: string, context: number): KnownModelSet => ({ ...knownSet('x/'), setName, context });
  const adapter = createMockAdapter({ catalogue: [set('a', 80), set('a', 400), set('b', 400), set('b', 80)] });

  it('takes the largest context of the set, or the one asked for', () => {
    expect(selectKnownModelSet(adapter, { setName: 'a' })).toMatchObject({ setName: 'a', context: 400 });
    expect(selectKnownModelSet(adapter, { setName: 'b', context: 80 })).toMatchObject({ setName: 'b', context: 80 });
  });

  it('names what is published when nothing or several match', () => {
    expect(() => selectKnownModelSet(adapter, { context: 2000 })).toThrow('mock publishes no context 2000; published: a at 80, 400; b at 80, 400');
    expect(() => selectKnownModelSet(adapter, { setName: 'c' })).toThrow(ModelNotFoundError);
    expect(() => selectKnownModelSet(adapter)).toThrow(AmbiguousModelError);
    expect(() => selectKnownModelSet(createMockAdapter())).toThrow(/publishes no downloadable model sets/);
  });
});
