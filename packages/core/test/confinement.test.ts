/**
 * Nothing outside the models folder is read or written because a file inside it says so: paths in
 * model_info.json that leave their set folder are reported without being opened (by the schema,
 * and again by `resolveInsideSet` for adapters whose schema lets them through), and catalogue
 * entries cannot send a pull outside the models folder.
 */
import { createHash } from 'node:crypto';
import { promises as fsp, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { recordFsAccess } from '../../../test-support/fs-spy.js';
import { z } from 'zod';
import { createModelManager, DownloadError, type KnownModelSet, loadModelInfo, MetadataError, modelInfoSchema, pullModelSet } from '../src/index.js';
import { resolveInsideSet } from '../src/metadata/model-info.js';
import { createMockAdapter } from '../src/testing/index.js';
import { makeTree, mock } from '../../../test-support/tree.js';

afterEach(() => vi.restoreAllMocks());

const inside = (root: string, path: string) => {
  const rel = relative(root, resolve(path));
  return rel === '' || (!rel.startsWith('..') && !rel.split(sep).includes('..') && resolve(rel) !== rel);
};

/** Records every path fs.promises stats, reads or opens while `run` runs. */
async function touchedBy(run: () => Promise<unknown>): Promise<string[]> {
  const touched = recordFsAccess();
  try {
    await run();
  } finally {
    vi.restoreAllMocks();
  }
  return touched;
}

/** Paths that try to leave a set folder `models/alpha`, one of them the real file next to `models/`. */
function escapes(root: string): string[] {
  return [
    '../../outside_8.mock',
    '../beta/x_8.mock',
    'a/../../../outside_8.mock',
    '..\\..\\outside_8.mock',
    join(root, 'outside_8.mock'),
    '/etc/passwd',
    'C:\\Windows\\win.ini',
  ];
}

describe('model_info.json paths are confined to their set folder', () => {
  const outsideBytes = mock(8);
  const sha = createHash('sha256').update(outsideBytes).digest('hex');

  async function tree() {
    const root = await makeTree({ 'models/alpha/a_8.mock': mock(8), 'models/beta/x_8.mock': mock(8), 'outside_8.mock': outsideBytes });
    return { root, models: join(root, 'models'), metadata: join(root, 'models/alpha/metadata/model_info.json') };
  }
  const info = (path: string) => ({
    schemaVersion: 1,
    adapter: 'mock',
    setName: 'alpha',
    context: 8,
    outputClasses: ['neither', 'acceptor', 'donor'],
    files: [
      { path: 'a_8.mock', sha256: sha, size: outsideBytes.length },
      { path, sha256: sha, size: outsideBytes.length },
    ],
  });

  it('the schema refuses them: a MetadataError naming the file and the path, and validation stats nothing outside', async () => {
    const { root, models, metadata } = await tree();
    for (const path of escapes(root)) {
      await fsp.mkdir(join(models, 'alpha/metadata'), { recursive: true });
      await fsp.writeFile(metadata, JSON.stringify(info(path)));
      const error = await loadModelInfo(metadata).catch((e: unknown) => e);
      expect(MetadataError.isInstance(error), path).toBe(true);
      expect((error as Error).message).toContain(metadata);
      expect((error as Error).message).toMatch(/must be a relative path inside the set folder/);

      const manager = createModelManager({ modelsDir: models }).register(createMockAdapter());
      let report: Awaited<ReturnType<typeof manager.validate>> | undefined;
      const touched = await touchedBy(async () => (report = await manager.validate()));
      const alpha = report!.sets.find((s) => s.setName === 'alpha')!;
      expect(
        alpha.issues.map((i) => i.code),
        path,
      ).toContain('metadata-invalid');
      expect(
        touched.filter((p) => !inside(models, p)),
        path,
      ).toEqual([]);
      expect(touched, 'the spies see what validation reads').toContain(metadata);
    }
  });

  it('an adapter schema that lets them through is caught by resolveInsideSet: reported, not stat-ed', async () => {
    const { root, models, metadata } = await tree();
    // A third-party schema that forgot the path rule (files' paths are any string).
    const loose = modelInfoSchema.extend({ files: z.array(z.object({ path: z.string(), sha256: z.string(), size: z.number() })) });
    const adapter = createMockAdapter({ metadataSchema: loose as unknown as typeof modelInfoSchema });
    for (const path of escapes(root)) {
      await fsp.mkdir(join(models, 'alpha/metadata'), { recursive: true });
      await fsp.writeFile(metadata, JSON.stringify(info(path)));
      const manager = createModelManager({ modelsDir: models }).register(adapter);
      let report: Awaited<ReturnType<typeof manager.validate>> | undefined;
      const touched = await touchedBy(async () => (report = await manager.validate()));
      const alpha = report!.sets.find((s) => s.setName === 'alpha')!;
      const issue = alpha.issues.find((i) => i.code === 'metadata-invalid');
      // On POSIX a backslash is part of a file name, so '..\\x' names a (missing) file inside the set.
      if (!inside(join(models, 'alpha'), resolve(models, 'alpha', path))) {
        expect(issue?.message, path).toMatch(/leaves the set folder/);
        expect(alpha.issues.map((i) => i.code)).not.toContain('missing-member');
      } else {
        expect(
          alpha.issues.map((i) => i.code),
          path,
        ).toContain('missing-member');
      }
      expect(
        touched.filter((p) => !inside(models, p)),
        path,
      ).toEqual([]);
      expect(touched, 'the spies see what validation reads').toContain(metadata);
    }
  });

  it('a wrong checksum (right size) is a checksum-mismatch; --no-checksums skips the hashing', async () => {
    const { models, metadata } = await tree();
    const listed = { ...info('a_8.mock'), files: [{ path: 'a_8.mock', sha256: '0'.repeat(64), size: mock(8).length }] };
    await fsp.mkdir(join(models, 'alpha/metadata'), { recursive: true });
    await fsp.writeFile(metadata, JSON.stringify(listed));
    const manager = createModelManager({ modelsDir: models }).register(createMockAdapter());
    const checked = (await manager.validate({ setName: 'alpha' })).sets[0];
    expect(checked.valid).toBe(false);
    expect(checked.issues.map((i) => [i.code, i.message])).toEqual([
      ['checksum-mismatch', expect.stringMatching(/^alpha\/a_8\.mock: sha256 [0-9a-f]{64} differs from model_info\.json's 0{64}$/)],
    ]);
    expect((await manager.validate({ setName: 'alpha', checksums: false })).sets[0].valid).toBe(true);
  });

  it('resolveInsideSet accepts plain relative paths only', () => {
    const set = resolve('/models/alpha');
    expect(resolveInsideSet(set, 'a_8.mock')).toBe(join(set, 'a_8.mock'));
    expect(resolveInsideSet(set, 'sub/a_8.mock')).toBe(join(set, 'sub', 'a_8.mock'));
    for (const path of ['', '.', '..', '../x', 'sub/../../x', '/etc/passwd', resolve('/models/beta/x')]) {
      expect(resolveInsideSet(set, path), JSON.stringify(path)).toBeUndefined();
    }
  });
});

describe('a catalogue cannot send a pull outside the models folder', () => {
  const bytes = Buffer.from('model bytes');
  const set = (over: Partial<KnownModelSet> = {}, name = 'm.mock'): KnownModelSet => ({
    setName: 'alpha',
    context: 8,
    license: 'CC0-1.0',
    sourceUrl: 'https://example.invalid/',
    directory: 'mock/alpha',
    files: [{ name, url: 'https://example.invalid/m.mock', sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length }],
    ...over,
  });

  it('refuses directories and file names that are absolute, climb, or hide a NUL, before touching the disk', async () => {
    const root = await makeTree({ 'models/.keep': '' });
    const modelsDir = join(root, 'models');
    const adapter = createMockAdapter();
    const cases: KnownModelSet[] = [
      ...['../outside', '/tmp/x', 'C:\\x', '\\\\server\\share', 'a/../../x', './a', 'a/./b', '', 'a\0b'].map((directory) => set({ directory })),
      ...['../m.mock', '/etc/passwd', 'a/m.mock', 'a\\m.mock', '..', '.', '', 'm\0.mock'].map((name) => set({}, name)),
    ];
    for (const entry of cases) {
      let error: unknown;
      const touched = await touchedBy(async () => {
        error = await pullModelSet(entry, { adapter, modelsDir, retries: 0 }).catch((e: unknown) => e);
      });
      expect(DownloadError.isInstance(error), `${JSON.stringify(entry.directory)} ${JSON.stringify(entry.files[0].name)}: ${String(error)}`).toBe(true);
      expect((error as Error).message).toMatch(/must be a relative path inside the models folder|must be a plain file name/);
      expect(touched).toEqual([]);
    }
    expect(await fsp.readdir(modelsDir)).toEqual(['.keep']);
    expect(readFileSync(join(root, 'models/.keep'), 'utf8')).toBe('');
  });
});
