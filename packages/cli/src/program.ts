import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { describeWriteFailure, errnoCode, InvalidArgumentError, MetaSpliceAIError } from '@metaspliceai/core';
import { registerModelsCommands } from './commands/models.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerScoreCommand } from './commands/score.js';
import { registerAnnotationsCommands } from './commands/annotations.js';
import { registerEvaluateCommand } from './commands/evaluate.js';
import { registerServeCommand } from './commands/serve.js';
import { type CliIO, processIO, writeLine } from './output/io.js';

/** Exit codes: 0 ok, 1 a failed check or a failed run, 2 a usage error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * Runs the CLI on `argv` (without the node and script names) and resolves to the exit code. Errors
 * become one line plus a hint on stderr; `--debug` adds the stack.
 */
export async function runCli(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const debug = argv.includes('--debug');
  let exitCode = EXIT_OK;
  const run = async (fn: () => Promise<number>): Promise<void> => {
    try {
      exitCode = await fn();
    } catch (error) {
      exitCode = reportError(error, io, debug);
    }
  };

  const program = new Command('metaspliceai')
    .version(cliVersion(), '-V, --version', 'print the version')
    .description('Find, validate, run and score with splice-site base models (SpliceAI, OpenSpliceAI, and any adapter you plug in).')
    .option('--debug', 'show stack traces of errors')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)');
  registerModelsCommands(program, io, run);
  registerPredictCommand(program, io, run);
  registerScoreCommand(program, io, run);
  registerAnnotationsCommands(program, io, run);
  registerEvaluateCommand(program, io, run);
  registerServeCommand(program, io, run);
  for (const cmd of allCommands(program)) cmd.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT_OK;
      return EXIT_USAGE;
    }
    return reportError(error, io, debug);
  }
  return exitCode;
}

/** This package's version, read once from its package.json (one level above dist/ and src/). */
function cliVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** Prints `error` as one line plus a hint (the stack only with --debug); returns the exit code. */
export function reportError(error: unknown, io: CliIO, debug: boolean): number {
  if (MetaSpliceAIError.isInstance(error)) {
    writeLine(io.stderr, `error: ${error.message}`);
    if (error.hint) writeLine(io.stderr, `hint: ${error.hint}`);
    if (debug && error.stack) writeLine(io.stderr, error.stack);
    return InvalidArgumentError.isInstance(error) ? EXIT_USAGE : EXIT_FAILURE;
  }
  // A system error (no space, no permission, read-only, I/O) is the user's to fix, not a bug: say
  // what happened and what to change instead of asking for a report.
  const code = errnoCode(error);
  const known = describeWriteFailure(code);
  if (known) {
    const path = (error as { path?: unknown }).path;
    writeLine(io.stderr, `error: ${typeof path === 'string' ? `${path}: ` : ''}${known.words} (${code})`);
    writeLine(io.stderr, `hint: ${code === 'ENOENT' ? 'check the path' : known.hint}`);
    if (debug && error instanceof Error && error.stack) writeLine(io.stderr, error.stack);
    return EXIT_FAILURE;
  }
  const message = error instanceof Error ? error.message : String(error);
  writeLine(io.stderr, `error: ${message.split('\n')[0]}`);
  writeLine(io.stderr, debug && error instanceof Error && error.stack ? error.stack : 'hint: this is unexpected; rerun with --debug and report the output');
  return EXIT_FAILURE;
}
