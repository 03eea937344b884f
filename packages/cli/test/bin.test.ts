/**
 * The `metaspliceai` bin on glibc Linux runs itself once more with MALLOC_ARENA_MAX=2 (see
 * src/bin.ts): the second process must get the setting, and signals and exit codes must pass
 * through as if there were one process.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MODELS_DIR } from '../../../test-support/shared.js';
import { BIN, bin } from './helpers.js';

const glibc = process.platform === 'linux' && (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime !== undefined;

const PREDICT_STDIN = ['predict', '--model', 'openspliceai', '--set', 'openspliceai-mane', '--context', '80', '--models-dir', MODELS_DIR, '--quiet'];

/** The pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        // Fields after the command name, which is in parentheses and may hold spaces.
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function until<T>(probe: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(glibc)('metaspliceai bin on glibc', () => {
  it('runs with MALLOC_ARENA_MAX=2, and a SIGTERM to it ends both processes', async () => {
    expect(existsSync(BIN)).toBe(true);
    const env = { ...process.env };
    delete env.MALLOC_ARENA_MAX;
    // predict reads FASTA from stdin, which stays open: the run waits until it is killed.
    const parent = spawn(process.execPath, [BIN, ...PREDICT_STDIN], { env, stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => parent.on('exit', (_code, signal) => resolve(signal)));
    const child = await until(() => childrenOf(parent.pid!)[0]);
    const childEnv = await until(() => {
      const text = readFileSync(`/proc/${child}/environ`, 'utf8');
      return text.length > 0 ? text.split('\0') : undefined;
    });
    expect(childEnv).toContain('MALLOC_ARENA_MAX=2');

    parent.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    await until(() => (existsSync(`/proc/${child}`) && !readFileSync(`/proc/${child}/stat`, 'utf8').includes(') Z') ? undefined : true));
  });

  it('passes exit codes through, and a value the user set is kept (no second process)', async () => {
    expect((await bin(['--version'])).code).toBe(0);
    expect((await bin(['predict', '--format', 'tsv'])).code).toBe(2);
    const parent = spawn(process.execPath, [BIN, ...PREDICT_STDIN], {
      env: { ...process.env, MALLOC_ARENA_MAX: '4' },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const exited = new Promise<void>((resolve) => parent.on('exit', () => resolve()));
    await new Promise((r) => setTimeout(r, 500));
    expect(childrenOf(parent.pid!)).toEqual([]);
    parent.kill('SIGTERM');
    await exited;
  });
});
