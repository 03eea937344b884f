#!/usr/bin/env node
import { spawn } from 'node:child_process';

/**
 * glibc gives each thread that frees memory an arena of its own and keeps what was freed there;
 * onnxruntime's worker threads then hold memory that later tiles do not reuse. Peak RSS of
 * `predict` grew 12-19% from 110 kb to 1 Mb and varied by +-40 MB from run to run; with two arenas
 * it stayed flat, at the same speed. glibc reads MALLOC_ARENA_MAX when a process starts, so the
 * CLI runs itself once more with it set (unless the user set it).
 */
function needsArenaLimit(): boolean {
  if (process.platform !== 'linux' || process.env.MALLOC_ARENA_MAX !== undefined) return false;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime !== undefined;
}

if (needsArenaLimit()) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, MALLOC_ARENA_MAX: '2' },
  });
  const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of forwarded) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    process.stderr.write(`error: could not start ${process.execPath} (${error.message})\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      // End the same way the child did, so a shell sees the signal.
      for (const s of forwarded) process.removeAllListeners(s);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
} else {
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  // A closed pipe (`metaspliceai ... | head`) ends the run quietly, as it does for Unix tools.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  const { runCli } = await import('./program.js');
  process.exitCode = await runCli(process.argv.slice(2));
}
