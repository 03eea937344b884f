import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  OutputError,
  isAtomicTempName,
  openAtomicFile,
  removeLiveTempFilesSync,
  toOutputError,
  writeFileAtomic,
  writeModelInfo,
  type ModelInfo,
} from '@metaspliceai/core';
import { liveTempFiles } from '../src/io/atomic-file.js';
import { z } from 'zod';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'msai-atomic-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const listing = async () => (await fs.readdir(dir)).sort();

describe('openAtomicFile', () => {
  it('shows nothing under the final name until commit, then the whole file and no temp', async () => {
    const path = join(dir, 'out.vcf');
    const file = await openAtomicFile(path);
    expect(file.tempPath.startsWith(dir)).toBe(true);
    expect(isAtomicTempName(file.tempPath.slice(dir.length + 1))).toBe(true);
    expect(liveTempFiles()).toContain(file.tempPath);
    file.stream.write('a\n');
    file.stream.write('b\n');
    await expect(fs.access(path)).rejects.toThrow();
    await file.commit();
    expect(await fs.readFile(path, 'utf8')).toBe('a\nb\n');
    expect(await listing()).toEqual(['out.vcf']);
    expect(liveTempFiles()).not.toContain(file.tempPath);
  });

  it('abort leaves an earlier file untouched and removes the temp', async () => {
    const path = join(dir, 'out.tsv');
    await fs.writeFile(path, 'earlier\n');
    const file = await openAtomicFile(path);
    file.stream.write('half a line');
    await file.abort();
    await file.abort(); // twice is fine
    expect(await fs.readFile(path, 'utf8')).toBe('earlier\n');
    expect(await listing()).toEqual(['out.tsv']);
  });

  it('keeps the permission bits of the file it replaces and writes through a symlink', async () => {
    const real = join(dir, 'real.txt');
    await fs.writeFile(real, 'old');
    await fs.chmod(real, 0o640);
    await fs.symlink(real, join(dir, 'link.txt'));
    await writeFileAtomic(join(dir, 'link.txt'), 'new');
    expect(await fs.readFile(real, 'utf8')).toBe('new');
    expect((await fs.lstat(join(dir, 'link.txt'))).isSymbolicLink()).toBe(true);
    expect((await fs.stat(real)).mode & 0o777).toBe(0o640);
  });

  it('refuses a missing folder in one OutputError naming the folder with a mkdir hint', async () => {
    const path = join(dir, 'no', 'such', 'out.vcf');
    const error = await openAtomicFile(path).catch((e: unknown) => e);
    expect(OutputError.isInstance(error)).toBe(true);
    expect((error as OutputError).message).toBe(`${path}: cannot write: the folder ${join(dir, 'no', 'such')} does not exist`);
    expect((error as OutputError).hint).toContain('mkdir -p');
  });

  it('a target that is a folder fails on commit, leaving the folder and no temp', async () => {
    const path = join(dir, 'sub');
    await fs.mkdir(path);
    const file = await openAtomicFile(path);
    file.stream.write('x');
    const error = await file.commit().catch((e: unknown) => e);
    expect(OutputError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/^.*sub: cannot write: /);
    expect((await fs.stat(path)).isDirectory()).toBe(true);
    expect(await listing()).toEqual(['sub']);
  });

  it('removeLiveTempFilesSync removes the temp files of outputs still open', async () => {
    const file = await openAtomicFile(join(dir, 'x.txt'));
    file.stream.write('x');
    expect(await listing()).toHaveLength(1);
    expect(removeLiveTempFilesSync()).toContain(file.tempPath);
    expect(await listing()).toEqual([]);
    await file.abort();
  });
});

describe('toOutputError', () => {
  it('says what a system error means, with a hint that fits it', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const e = toOutputError('/x/out.vcf', enospc);
    expect(e.message).toBe('/x/out.vcf: cannot write: no space left on device (ENOSPC)');
    expect(e.hint).toMatch(/free space/);
    const eacces = toOutputError('/x/out.vcf', Object.assign(new Error('EACCES'), { code: 'EACCES' }));
    expect(eacces.message).toContain('permission denied');
    expect(eacces.hint).toMatch(/permissions/);
    expect(toOutputError('/x/out.vcf', Object.assign(new Error('EROFS'), { code: 'EROFS' })).hint).toMatch(/writable file system/);
  });
});

describe('writeModelInfo', () => {
  const anyInfo = z.custom<ModelInfo>(() => true);
  const info = { schemaVersion: 1, adapter: 'x', setName: 'y' } as unknown as ModelInfo;

  it('creates metadata/ (a folder the tool manages) and leaves only the finished file', async () => {
    const file = join(dir, 'set', 'metadata', 'model_info.json');
    await writeModelInfo(file, info, anyInfo);
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual(info);
    expect(await fs.readdir(join(dir, 'set', 'metadata'))).toEqual(['model_info.json']);
  });

  it('a failed write is one OutputError and leaves no temp file beside it', async () => {
    const file = join(dir, 'model_info.json');
    await fs.mkdir(file); // a folder where the file should go: the rename fails
    const error = await writeModelInfo(file, info, anyInfo).catch((e: unknown) => e);
    expect(OutputError.isInstance(error)).toBe(true);
    expect(await listing()).toEqual(['model_info.json']);
  });
});
