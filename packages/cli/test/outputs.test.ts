import { execFileSync, spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isAtomicTempName } from '@metaspliceai/core';
import { BGZF_EOF } from '@metaspliceai/genomics';
import { PassThrough } from 'node:stream';
import { reportError } from '../src/program.js';
import { BIN, cli, MOCK_ADAPTER } from './helpers.js';

/**
 * Output guarantees (issue 16): a file under its final name is always complete; a failed or
 * interrupted run leaves an earlier file untouched; an output is never one of the inputs; a file
 * the user names goes into an existing folder; write failures are one line with a true hint.
 */

const STACK = /^\s+at .+:\d+:\d+\)?$/m;
const GENOME_LENGTH = 200_000;
const VARIANTS = 4000; // ~290 kB of VCF (~43 kB bgzip): overflows a 16 kB disk, and lasts long enough to be killed mid-run

const SEQ = (() => {
  let s = '';
  let seed = 7;
  for (let i = 0; i < GENOME_LENGTH; i++) s += 'ACGT'[(seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 30];
  return s;
})();

const GFF3 = [
  '##gff-version 3',
  'chr1\tt\tgene\t1001\t199000\t.\t+\t.\tID=gene-G1;Name=G1',
  'chr1\tt\tmRNA\t1001\t199000\t.\t+\t.\tID=rna-1;Parent=gene-G1',
  'chr1\tt\texon\t1001\t50000\t.\t+\t.\tParent=rna-1',
  'chr1\tt\texon\t100001\t199000\t.\t+\t.\tParent=rna-1',
  '',
].join('\n');

let root: string;
const model = () => ['--models-dir', 'models', '--adapter', MOCK_ADAPTER, '--model', 'mock'];
const scoreArgs = (...extra: string[]) => ['score', ...model(), '-R', 'genome.fa', '-A', 'genes.txt', '--quiet', ...extra];

/** Files in `dir` that are our temp files. */
const temps = async (dir: string) => (await fs.readdir(dir)).filter(isAtomicTempName);

beforeAll(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-outputs-'));
  const vcf = ['##fileformat=VCFv4.2', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO'];
  for (let i = 0; i < VARIANTS; i++) {
    const pos = 2000 + i * 45;
    const ref = SEQ[pos - 1];
    vcf.push(`chr1\t${pos}\t.\t${ref}\t${ref === 'A' ? 'C' : 'A'}\t.\t.\t.`);
  }
  const files: Record<string, string | Buffer> = {
    'models/alpha/a_80.mock': JSON.stringify({ context: 80 }),
    'genome.fa': `>chr1\n${SEQ.replace(/(.{60})/g, '$1\n')}\n`,
    'genes.txt': '#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\nG1\t1\t+\t1000\t199000\t1000,100000,\t50000,199000,\n',
    'genes.gff3': GFF3,
    'in.vcf': `${vcf.join('\n')}\n`,
    // gzip cut short: reading it fails part-way, after the output was opened
    'truncated.vcf.gz': gzipSync(`${vcf.join('\n')}\n`).subarray(0, 5000),
  };
  for (const [p, text] of Object.entries(files)) {
    await fs.mkdir(join(root, p, '..'), { recursive: true });
    await fs.writeFile(join(root, p), text);
  }
  await fs.symlink(join(root, 'in.vcf'), join(root, 'link.vcf'));
  await fs.link(join(root, 'in.vcf'), join(root, 'hard.vcf'));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('a failed run leaves an earlier output untouched', () => {
  it.each(['out.vcf', 'out.vcf.gz'])('score -O %s: input failing part-way -> exit 1, earlier file intact, no temp file', async (name) => {
    await fs.writeFile(join(root, name), 'earlier\n');
    const r = await cli(scoreArgs('-I', 'truncated.vcf.gz', '-O', name), { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*truncated\.vcf\.gz: .*gzip/m);
    expect(await fs.readFile(join(root, name), 'utf8')).toBe('earlier\n');
    expect(await temps(root)).toEqual([]);
  });

  it('a bgzip -O that succeeds ends with its EOF block', async () => {
    const r = await cli(scoreArgs('-I', 'in.vcf', '-O', 'ok.vcf.gz'), { cwd: root });
    expect(r.code).toBe(0);
    const bytes = await fs.readFile(join(root, 'ok.vcf.gz'));
    expect(bytes.subarray(bytes.length - BGZF_EOF.length).equals(BGZF_EOF)).toBe(true);
    expect(await temps(root)).toEqual([]);
  });
});

describe('an output is never one of the inputs', () => {
  const cases: [string, string[], RegExp][] = [
    ['score -I x -O x', scoreArgs('-I', 'in.vcf', '-O', 'in.vcf'), /^error: -O in\.vcf is the same file as -I in\.vcf/m],
    ['score -O through a symlink to -I', scoreArgs('-I', 'in.vcf', '-O', 'link.vcf'), /^error: -O link\.vcf is the same file as -I in\.vcf/m],
    ['score -I a symlink, -O its target', scoreArgs('-I', 'link.vcf', '-O', 'in.vcf'), /^error: -O in\.vcf is the same file as -I link\.vcf/m],
    ['score -O a hard link of -I', scoreArgs('-I', 'in.vcf', '-O', 'hard.vcf'), /^error: -O hard\.vcf is the same file as -I in\.vcf/m],
    ['score -O the reference', scoreArgs('-I', 'in.vcf', '-O', 'genome.fa'), /^error: -O genome\.fa is the same file as -R genome\.fa/m],
    ['score -O the annotation', scoreArgs('-I', 'in.vcf', '-O', './genes.txt'), /^error: -O \.\/genes\.txt is the same file as -A genes\.txt/m],
    [
      'predict --output the FASTA',
      ['predict', ...model(), '--fasta', 'genome.fa', '--output', 'genome.fa'],
      /^error: --output genome\.fa is the same file as --fasta genome\.fa/m,
    ],
    [
      'predict --output the --genes file',
      ['predict', ...model(), '--fasta', 'genome.fa', '--genes', 'genes.gff3', '--output', 'genes.gff3'],
      /^error: --output genes\.gff3 is the same file as --genes genes\.gff3/m,
    ],
    [
      'annotations build -o its input',
      ['annotations', 'build', 'genes.gff3', '-o', 'genes.gff3'],
      /^error: -o genes\.gff3 is the same file as the input genes\.gff3/m,
    ],
  ];
  it.each(cases)('%s: exit 2, names both, the input unchanged', async (_label, args, message) => {
    const before = await Promise.all(['in.vcf', 'genome.fa', 'genes.txt', 'genes.gff3'].map((f) => fs.readFile(join(root, f))));
    const r = await cli(args, { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(STACK);
    const after = await Promise.all(['in.vcf', 'genome.fa', 'genes.txt', 'genes.gff3'].map((f) => fs.readFile(join(root, f))));
    after.forEach((bytes, i) => expect(bytes.equals(before[i])).toBe(true));
    expect((await fs.lstat(join(root, 'link.vcf'))).isSymbolicLink()).toBe(true);
  });
});

describe('a file the user names goes into an existing folder; folders the tool manages are created', () => {
  const missing = (name: string) =>
    new RegExp(`^error: .*${name}: cannot write: the folder .*no-such-dir does not exist\\nhint: create it first \\(mkdir -p .*no-such-dir\\)`, 'm');
  it.each([
    ['score -O', scoreArgs('-I', 'in.vcf', '-O', 'no-such-dir/out.vcf'), 'out\\.vcf'],
    ['predict --output', ['predict', ...model(), '--fasta', 'genome.fa', '--output', 'no-such-dir/out.tsv'], 'out\\.tsv'],
    ['annotations build -o', ['annotations', 'build', 'genes.gff3', '-o', 'no-such-dir/table.txt'], 'table\\.txt'],
  ])('%s into a missing folder: exit 1 naming the folder, nothing created', async (_label, args, name) => {
    const r = await cli(args, { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(missing(name));
    expect(existsSync(join(root, 'no-such-dir'))).toBe(false);
  });

  it('annotations build --install creates <data>/annotations itself', async () => {
    const r = await cli(['annotations', 'build', 'genes.gff3', '--install', 'grch37', '--data-dir', 'fresh-data', '--quiet'], { cwd: root });
    expect(r.code).toBe(0);
    expect(await fs.readFile(join(root, 'fresh-data/annotations/grch37.txt'), 'utf8')).toMatch(/^#NAME\tCHROM/);
    expect(await temps(join(root, 'fresh-data/annotations'))).toEqual([]);
  });

  it('-O naming a folder is one error, exit 1', async () => {
    const r = await cli(scoreArgs('-I', 'in.vcf', '-O', 'models'), { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*models: cannot write: it is a folder, not a file\nhint: name a file inside it/m);
  });

  it.runIf(process.platform === 'linux')('score -O /proc/version (cannot be written): one line, exit 1, /proc/version unchanged', async () => {
    const before = await fs.readFile('/proc/version', 'utf8');
    const r = await cli(scoreArgs('-I', 'in.vcf', '-O', '/proc/version'), { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: \/proc\/version: cannot write: .+\nhint: .+\n$/);
    expect(r.stderr).not.toMatch(/unexpected/);
    expect(await fs.readFile('/proc/version', 'utf8')).toBe(before);
  });
});

describe('a full disk', () => {
  // A real 16 kB tmpfs when this process may mount one (root on Linux); else a write error injected
  // into every file write once 16 kB were written. Either way the run must fail the same way.
  let disk: string;
  let mounted = false;
  beforeAll(async () => {
    disk = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-full-'));
    // METASPLICEAI_TEST_INJECT_ENOSPC=1 runs the injected path even where mount works.
    if (process.env.METASPLICEAI_TEST_INJECT_ENOSPC !== '1') {
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', disk], { stdio: 'ignore' });
        mounted = true;
      } catch {
        mounted = false;
      }
    }
    console.info(`outputs.test: disk-full tests run on ${mounted ? 'a real 16 kB tmpfs' : 'an injected ENOSPC (no tmpfs mounted)'}`);
  });
  afterAll(async () => {
    if (mounted) execFileSync('umount', [disk]);
    await fs.rm(disk, { recursive: true, force: true });
  });

  /** Runs `fn` with writes failing ENOSPC past 16 kB, unless a real small disk is mounted. */
  async function onFullDisk<T>(fn: () => Promise<T>): Promise<T> {
    if (mounted) return fn();
    const probe = await fs.open(join(disk, '.probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> };
    await probe.close();
    await fs.rm(join(disk, '.probe'));
    const original = proto.write;
    let written = 0;
    const spy = vi.spyOn(proto, 'write').mockImplementation(function (this: unknown, ...args: unknown[]) {
      const chunk = args[0] as Uint8Array;
      written += chunk.length;
      if (written > 16 * 1024) return Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' }));
      return original.apply(this, args);
    });
    try {
      return await fn();
    } finally {
      spy.mockRestore();
    }
  }

  it.each(['scores.vcf', 'scores.vcf.gz'])('score -O %s: exit 1, "no space left on device" with a true hint, earlier file intact, no temp', async (name) => {
    const target = join(disk, name);
    await fs.writeFile(target, 'earlier\n');
    const r = await onFullDisk(() => cli(scoreArgs('-I', join(root, 'in.vcf'), '-O', target), { cwd: root }));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: ${target}: cannot write: no space left on device (ENOSPC)\nhint: free space on that device or write to another folder\n`);
    expect(await fs.readFile(target, 'utf8')).toBe('earlier\n');
    expect(await temps(disk)).toEqual([]);
  });

  it('predict --output on a full disk: exit 1, no file under the name', async () => {
    const target = join(disk, 'predictions.tsv');
    const r = await onFullDisk(() => cli(['predict', ...model(), '--fasta', join(root, 'genome.fa'), '--output', target, '--quiet'], { cwd: root }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*predictions\.tsv: cannot write: no space left on device \(ENOSPC\)\nhint: free space/);
    expect(existsSync(target)).toBe(false);
    expect(await temps(disk)).toEqual([]);
  });
});

describe('system errors are the user\'s to fix, not "unexpected"', () => {
  it.each([
    ['ENOSPC', 'no space left on device', /free space/],
    ['EACCES', 'permission denied', /check the permissions/],
    ['EROFS', 'read-only file system', /writable file system/],
    ['EIO', 'input/output error from the device', /check it and retry/],
  ])('a raw %s error: one line naming the path, a hint that fits, exit 1', (code, words, hint) => {
    const stderr = new PassThrough();
    let text = '';
    stderr.on('data', (c: Buffer) => (text += c.toString()));
    const io = { stdout: new PassThrough(), stderr, stdin: new PassThrough(), cwd: root, env: {}, stderrIsTTY: false };
    const error = Object.assign(new Error(`${code}: something, open '/x/out.tsv'`), { code, path: '/x/out.tsv' });
    expect(reportError(error, io, false)).toBe(1);
    const [first, second, ...rest] = text.split('\n');
    expect(first).toBe(`error: /x/out.tsv: ${words} (${code})`);
    expect(second).toMatch(hint);
    expect(second).not.toMatch(/unexpected/);
    expect(rest).toEqual(['']);
  });
});

describe('the built bin: stdout failures and signals', () => {
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build first (pnpm test does)`);
  });

  /** Spawns the bin; `stdout` is a file descriptor or 'pipe'. */
  function spawnBin(args: string[], stdout: number | 'pipe' = 'pipe') {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: root, stdio: ['ignore', stdout, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((done) =>
      child.on('close', (code, signal) => done({ code, signal, stderr })),
    );
    return { child, exited };
  }

  it.runIf(existsSync('/dev/full'))('predict > /dev/full: "error: stdout: no space left on device", exit 1, no stack trace', async () => {
    const fd = openSync('/dev/full', 'w');
    try {
      const { exited } = spawnBin(['predict', ...model(), '--fasta', 'genome.fa', '--quiet'], fd);
      const r = await exited;
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('error: stdout: no space left on device (ENOSPC)\nhint: free space on that device or write to another folder\n');
    } finally {
      closeSync(fd);
    }
  });

  it('a reader that leaves early (| head) still ends the run quietly, exit 0', async () => {
    const { child, exited } = spawnBin(['predict', ...model(), '--fasta', 'genome.fa', '--quiet']);
    child.stdout!.once('data', () => child.stdout!.destroy());
    const r = await exited;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  /** Starts score -O `name` and resolves once its temp file holds data (the run is mid-way). */
  async function scoreUntilWriting(name: string) {
    const run = spawnBin(scoreArgs('-I', 'in.vcf', '-O', name));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const found = await temps(root);
      const sizes = await Promise.all(
        found.map((f) =>
          fs.stat(join(root, f)).then(
            (s) => s.size,
            () => 0,
          ),
        ),
      );
      if (sizes.some((s) => s > 0)) return { ...run, temp: found[sizes.findIndex((s) => s > 0)] };
      if (Date.now() > deadline || run.child.exitCode !== null) throw new Error('the run ended before it was interrupted');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s mid-run: exit %i, the temp file removed, an earlier file intact', async (signal, code) => {
    await fs.writeFile(join(root, 'kept.vcf'), 'earlier\n');
    const { child, exited } = await scoreUntilWriting('kept.vcf');
    child.kill(signal);
    const r = await exited;
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(new RegExp(`interrupted \\(${signal}\\): the unfinished output was removed`));
    expect(r.stderr).not.toMatch(STACK);
    expect(await fs.readFile(join(root, 'kept.vcf'), 'utf8')).toBe('earlier\n');
    expect(await temps(root)).toEqual([]);
  });

  it('SIGKILL mid-run (no cleanup possible): nothing under the final name, only a recognisable temp file', async () => {
    const { child, exited, temp } = await scoreUntilWriting('killed.vcf');
    child.kill('SIGKILL');
    const r = await exited;
    expect(r.signal).toBe('SIGKILL');
    expect(existsSync(join(root, 'killed.vcf'))).toBe(false);
    expect(temp).toMatch(/^\.killed\.vcf\.metaspliceai-\d+-[0-9a-f]+\.tmp$/);
    await fs.rm(join(root, temp), { force: true });
  });
});
