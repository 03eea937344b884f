#!/usr/bin/env node
process.env.ORT_DISABLE_TELEMETRY ??= '1';
const { removeLiveTempFilesSync, describeWriteFailure, errnoCode } = await import('@metaspliceai/core');

// An unfinished output never stays behind: its temp file goes on exit, on a failure, and on a
// signal, which then ends the run with 128 + the signal number, as shells report it.
process.on('exit', () => removeLiveTempFilesSync());
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
for (const [signal, code] of Object.entries(SIGNAL_EXIT)) {
  process.once(signal, () => {
    const removed = removeLiveTempFilesSync();
    process.stderr.write(`\ninterrupted (${signal})${removed.length ? `: the unfinished output was removed; earlier files are unchanged` : ''}\n`);
    process.exit(code);
  });
}

// A closed pipe (`metaspliceai ... | head`) ends the run quietly, as it does for Unix tools; any
// other failure of stdout/stderr (a full disk under `> file`) is one line, never a stack trace.
for (const [name, stream] of [
  ['stdout', process.stdout],
  ['stderr', process.stderr],
] as const) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    const code = errnoCode(error);
    const known = describeWriteFailure(code);
    if (name === 'stdout') {
      process.stderr.write(`error: stdout: ${known ? known.words : error.message.split('\n')[0]}${code ? ` (${code})` : ''}\n`);
      if (known) process.stderr.write(`hint: ${known.hint}\n`);
    }
    process.exit(1);
  });
}
const { runCli } = await import('./program.js');
process.exitCode = await runCli(process.argv.slice(2));

export {};
