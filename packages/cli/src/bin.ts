#!/usr/bin/env node
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

export {};
