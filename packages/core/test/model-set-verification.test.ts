import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createModelManager, type KnownModelSet, MetadataError, ModelFileError } from '../src/index.js';
import { createMockAdapter } from '../src/testing/mock-adapter.js';
import { makeTree, mock } from '../../../test-support/tree.js';

// A set runs only on the files its model_info.json records: missing members are refused, members
// that differ are reported (and refused with strict), and the hashes are handed to the caller.

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const managerFor = (root: string, options: { strict?: boolean; onWarning?: (m: string) => void } = {}, catalogue?: KnownModelSet[]) =>
  createModelManager({ modelsDir: root, ...options }).register(createMockAdapter(catalogue ? { catalogue } : {}));

/** alpha/{a,b,c}_8.mock, indexed. */
async function indexedSet(): Promise<string> {
  const root = await makeTree({ 'alpha/a_8.mock': mock(8), 'alpha/b_8.mock': mock(8), 'alpha/c_8.mock': `${mock(8)}\n` });
  await managerFor(root).index();
  return root;
}
const infoPath = (root: string) => join(root, 'alpha', 'metadata', 'model_info.json');
async function editInfo(root: string, edit: (info: { files: { path: string; sha256: string; size: number }[] }) => void): Promise<void> {
  const info = JSON.parse(await fs.readFile(infoPath(root), 'utf8'));
  edit(info);
  await fs.writeFile(infoPath(root), JSON.stringify(info));
}

describe('loading a set checks it against model_info.json', () => {
  it('refuses a set whose model_info.json lists members that are missing, naming them and the fix', async () => {
    const root = await indexedSet();
    await fs.rm(join(root, 'alpha/b_8.mock'));
    await fs.rm(join(root, 'alpha/c_8.mock'));
    const manager = managerFor(root);
    const error = await manager.load({ adapter: 'mock' }).catch((e: unknown) => e);
    expect(MetadataError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      `${infoPath(root)}: lists 2 of its 3 members that are missing: b_8.mock, c_8.mock; refusing to load an incomplete mock/alpha/8`,
    );
    expect((error as MetadataError).hint).toMatch(
      /^pull the set again \(metaspliceai models pull mock --set alpha --context 8\), or, .* re-index them: metaspliceai models index .*alpha$/,
    );

    const report = await manager.validate();
    expect(report.valid).toBe(false);
    expect(report.sets[0].issues.filter((i) => i.code === 'missing-member').map((i) => i.message)).toEqual([
      'b_8.mock is listed in model_info.json but is missing',
      'c_8.mock is listed in model_info.json but is missing',
    ]);
    const health = await manager.health({ adapter: 'mock' });
    expect(health.ok).toBe(false);
    expect(health.checks[0].message).toMatch(/lists 2 of its 3 members that are missing/);
  });

  it('hashes each listed member once and hands the hashes over', async () => {
    const root = await indexedSet();
    const loaded = await managerFor(root).load({ adapter: 'mock' });
    expect(loaded.warnings).toEqual([]);
    expect([...loaded.sha256]).toEqual([
      [join(root, 'alpha/a_8.mock'), sha256(mock(8))],
      [join(root, 'alpha/b_8.mock'), sha256(mock(8))],
      [join(root, 'alpha/c_8.mock'), sha256(`${mock(8)}\n`)],
    ]);
    await loaded.dispose();
  });

  it('warns, one line naming the file, when a sha256 differs; strict refuses it', async () => {
    const root = await indexedSet();
    await editInfo(root, (info) => (info.files[1].sha256 = '0'.repeat(64)));
    const seen: string[] = [];
    const loaded = await managerFor(root, { onWarning: (m) => seen.push(m) }).load({ adapter: 'mock' });
    const file = join(root, 'alpha/b_8.mock');
    const line = `${file}: sha256 ${sha256(mock(8))} differs from ${'0'.repeat(64)} in model_info.json; it is not the file that was indexed or pulled`;
    expect(seen).toEqual([line]);
    expect(loaded.warnings).toEqual([line]);
    expect(loaded.sha256.get(file)).toBe(sha256(mock(8))); // what was hashed, not what was recorded
    await loaded.dispose();

    for (const manager of [managerFor(root, { strict: true }), managerFor(root)]) {
      const error = await manager.load({ adapter: 'mock', strict: true }).catch((e: unknown) => e);
      expect(ModelFileError.isInstance(error)).toBe(true);
      expect((error as ModelFileError).file).toBe(file);
      expect((error as Error).message).toMatch(/sha256 [0-9a-f]{64} differs from 0{64} in model_info\.json; .*; strict checking refuses it$/);
    }
    const strictDefault = await managerFor(root, { strict: true })
      .load({ adapter: 'mock' })
      .catch((e: unknown) => e);
    expect(ModelFileError.isInstance(strictDefault)).toBe(true);
  });

  it('warns about a size that differs and a member model_info.json does not list, and counts them in strict errors', async () => {
    const root = await indexedSet();
    await editInfo(root, (info) => {
      info.files[0].size += 1;
      info.files.pop();
    });
    const loaded = await managerFor(root).load({ adapter: 'mock' });
    expect(loaded.warnings).toEqual([
      `${join(root, 'alpha/a_8.mock')}: ${mock(8).length} bytes, model_info.json records ${mock(8).length + 1}; it is not the file that was indexed or pulled`,
      `${join(root, 'alpha/c_8.mock')}: not listed in ${infoPath(root)}, so its checksum cannot be checked`,
    ]);
    await loaded.dispose();
    await expect(managerFor(root).load({ adapter: 'mock', strict: true })).rejects.toThrow(
      /records 14; it is not the file that was indexed or pulled \(and 1 more problem\); strict checking refuses it$/,
    );
  });

  it('warns when model_info.json is unreadable or describes another set', async () => {
    const root = await indexedSet();
    await fs.writeFile(infoPath(root), '{not json');
    const broken = await managerFor(root).load({ adapter: 'mock' });
    expect(broken.warnings).toEqual([expect.stringMatching(new RegExp(`^${infoPath(root)}: the members' checksums cannot be checked: not valid JSON`))]);
    await broken.dispose();
  });

  it('warns when a set without model_info.json has fewer members than the adapter publishes', async () => {
    const root = await makeTree({ 'alpha/a_8.mock': mock(8), 'alpha/b_8.mock': mock(8) });
    const published: KnownModelSet = {
      setName: 'alpha',
      context: 8,
      license: 'CC0-1.0',
      sourceUrl: 'https://example.invalid/',
      directory: 'alpha',
      files: ['a', 'b', 'c', 'd', 'e'].map((n) => ({ name: `${n}_8.mock`, url: `https://example.invalid/${n}`, sha256: '0'.repeat(64), size: 14 })),
    };
    const loaded = await managerFor(root, {}, [published]).load({ adapter: 'mock' });
    expect(loaded.warnings).toEqual([
      `${join(root, 'alpha')}: 2 of the 5 published mock/alpha/8 members are present, and no model_info.json says which belong`,
    ]);
    await loaded.dispose();
  });

  it('reports load warnings in the health report; strict health fails on them', async () => {
    const root = await indexedSet();
    await editInfo(root, (info) => (info.files[2].sha256 = 'f'.repeat(64)));
    const report = await managerFor(root).health({ adapter: 'mock' });
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([expect.stringContaining(`${join(root, 'alpha/c_8.mock')}: sha256 `)]);
    const strict = await managerFor(root).health({ adapter: 'mock', strict: true });
    expect(strict.ok).toBe(false);
    expect(strict.checks).toEqual([{ name: 'load', ok: false, message: expect.stringMatching(/c_8\.mock: sha256 .*strict checking refuses it$/) }]);
  });
});
