import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from 'vitest';
import { cacheKey, type CacheKeyParts, ScoreCache } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'msa-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const parts: CacheKeyParts = {
  schema: 1,
  tool: 'spliceai',
  rule: 'spliceai',
  members: ['a'.repeat(64), 'b'.repeat(64)],
  genomeSha256: 'c'.repeat(64),
  annotationSha256: 'd'.repeat(64),
  distance: 500,
  mask: 0,
  variant: '10-94077-A-C',
};

describe('ScoreCache', () => {
  test('the key changes with every part a score depends on', () => {
    const base = cacheKey(parts);
    const changed: Partial<CacheKeyParts>[] = [
      { schema: 2 },
      { tool: 'pangolin' },
      { rule: 'pangolin' },
      { members: ['a'.repeat(64), 'e'.repeat(64)] },
      { members: ['b'.repeat(64), 'a'.repeat(64)] },
      { genomeSha256: 'e'.repeat(64) },
      { annotationSha256: 'e'.repeat(64) },
      { distance: 50 },
      { mask: 1 },
      { variant: '10-94077-A-G' },
    ];
    for (const c of changed) expect(cacheKey({ ...parts, ...c }), JSON.stringify(c)).not.toBe(base);
    expect(cacheKey({ ...parts })).toBe(base);
  });

  test('persists across reopening; a fresh folder starts empty', () => {
    const a = new ScoreCache(join(dir, 'one'));
    a.set('k', { status: 200, body: { x: 1 } });
    a.close();
    const b = new ScoreCache(join(dir, 'one'));
    expect(b.get('k')).toEqual({ status: 200, body: { x: 1 } });
    expect(b.size()).toBe(1);
    b.close();
    const fresh = new ScoreCache(join(dir, 'two'));
    expect(fresh.get('k')).toBeUndefined();
    fresh.close();
  });

  test('an entry that does not parse is dropped, not served', () => {
    const cache = new ScoreCache(join(dir, 'three'));
    const db = new Database(cache.path);
    db.prepare('INSERT INTO scores (key, status, value, created) VALUES (?, ?, ?, ?)').run('torn', 200, '{"scores": [', 0);
    db.close();
    expect(cache.get('torn')).toBeUndefined();
    expect(cache.size()).toBe(0);
    cache.close();
  });

  test('a writer killed mid-write (SIGKILL) leaves only whole entries', async () => {
    const folder = join(dir, 'killed');
    new ScoreCache(folder).close();
    const writer = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/cache-writer.mjs', import.meta.url)), join(folder, 'scores.sqlite')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => writer.stdout!.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 300));
    writer.kill('SIGKILL');
    await new Promise((r) => writer.once('exit', r));
    const cache = new ScoreCache(folder);
    const n = cache.size();
    expect(n).toBeGreaterThan(0);
    let whole = 0;
    for (let i = 0; i < 500; i++) {
      const entry = cache.get(`k${i}`) as { body: { i: number; filler: string; check: number } } | undefined;
      if (!entry) continue;
      expect(entry.body.check).toBe(entry.body.filler.length + entry.body.i);
      whole++;
    }
    expect(whole).toBe(n);
    cache.close();
  });
});
