import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { InputError } from '@metaspliceai/core';

/** Everything a lookup's answer depends on; two equal keys always have the same answer. */
export interface CacheKeyParts {
  tool: string;
  rule: string;
  /** sha256 of every model member, in member order. */
  members: readonly string[];
  genomeSha256: string;
  annotationSha256: string;
  distance: number;
  mask: number;
  variant: string;
  /** Bumped when the response's shape or numbers change, so old entries are never served. */
  schema: number;
}

/** The cache's key: a sha256 over the parts as JSON (fixed order), so no part can leak into another. */
export function cacheKey(parts: CacheKeyParts): string {
  const ordered = [parts.schema, parts.tool, parts.rule, parts.members, parts.genomeSha256, parts.annotationSha256, parts.distance, parts.mask, parts.variant];
  return createHash('sha256').update(JSON.stringify(ordered)).digest('hex');
}

export interface CachedAnswer {
  status: number;
  body: unknown;
}

/**
 * A persistent score cache in one SQLite file (`<dir>/scores.sqlite`), WAL mode. Each answer is
 * written by one INSERT in its own transaction, so a process killed mid-write leaves either the
 * whole entry or none (SQLite's journal rolls a torn write back on the next open); an entry that
 * does not parse is deleted and recomputed rather than served. Point `dir` at an empty folder to
 * start a fresh cache.
 */
export class ScoreCache {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string], { value: string; status: number }>;
  private readonly putStmt: Database.Statement<[string, number, string, number]>;
  private readonly delStmt: Database.Statement<[string]>;

  constructor(dir: string) {
    const folder = resolve(dir);
    this.path = join(folder, 'scores.sqlite');
    try {
      mkdirSync(folder, { recursive: true });
      this.db = new Database(this.path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, status INTEGER NOT NULL, value TEXT NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID',
      );
    } catch (cause) {
      throw new InputError(`score cache ${this.path}: cannot open it (${(cause as Error).message})`, {
        cause,
        hint: 'give --cache a writable folder; to start over, point it at an empty folder',
      });
    }
    this.getStmt = this.db.prepare('SELECT value, status FROM scores WHERE key = ?');
    this.putStmt = this.db.prepare('INSERT OR REPLACE INTO scores (key, status, value, created) VALUES (?, ?, ?, ?)');
    this.delStmt = this.db.prepare('DELETE FROM scores WHERE key = ?');
  }

  get(key: string): CachedAnswer | undefined {
    const row = this.getStmt.get(key);
    if (!row) return undefined;
    try {
      return { status: row.status, body: JSON.parse(row.value) };
    } catch {
      this.delStmt.run(key);
      return undefined;
    }
  }

  set(key: string, answer: CachedAnswer): void {
    this.putStmt.run(key, answer.status, JSON.stringify(answer.body), Date.now());
  }

  /** Entries held. */
  size(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM scores').get() as { n: number }).n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
