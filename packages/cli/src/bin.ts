#!/usr/bin/env node
process.env.ORT_DISABLE_TELEMETRY ??= '1';
const { runCli } = await import('./program.js');
process.exitCode = await runCli(process.argv.slice(2));

export {};
