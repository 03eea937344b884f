import { createModelManager, type Device, findProject, loadModelOptionsSchema, type ModelManager, ModelNotFoundError, parseFlags } from '@metaspliceai/core';
import { registerAdapters } from './adapters.js';
import { type CliIO, writeLine } from './output/io.js';

/** Options every command takes. */
export interface GlobalOptions {
  modelsDir?: string;
  adapter?: string[];
  json?: boolean;
  debug?: boolean;
  quiet?: boolean;
  /** Refuse model files that differ from their model_info.json instead of warning (predict, score, models health). */
  strict?: boolean;
}

/**
 * A manager for the command's models folder with every available adapter registered. Model files
 * that differ from their model_info.json are reported through `onWarning` (default: a `warning:`
 * line on stderr; commands with a progress bar pass their own), or refused with `--strict`.
 */
export async function managerFor(options: GlobalOptions, io: CliIO, report: { onWarning?: (line: string) => void } = {}): Promise<ModelManager> {
  const onWarning = report.onWarning ?? ((line: string) => writeLine(io.stderr, `warning: ${line}`));
  const manager = createModelManager({ modelsDir: options.modelsDir, cwd: io.cwd, strict: options.strict, onWarning });
  await registerAdapters(manager, options.adapter ?? []);
  return manager;
}

/** The flag of each option the commands share with the manager's `load`. */
const MODEL_FLAGS = { context: '--context', device: '--device', threads: '--threads' } as const;

const modelFlagsSchema = loadModelOptionsSchema.pick({ context: true, device: true, threads: true });

/**
 * --context, --device and --threads, checked by the manager's own load schema: one check, whose
 * message names the flag (`--threads takes a whole number of at least 1, got "0"`).
 */
export function modelFlags(opts: { context?: string; device?: string; threads?: string }): { context?: number; device?: Device; threads?: number } {
  return parseFlags(modelFlagsSchema, { context: opts.context, device: opts.device, threads: opts.threads }, MODEL_FLAGS);
}

/**
 * The adapter `--model` means when it is left out: `defaultModel` in metaspliceai.config.json,
 * else the first adapter registered (the built-ins register in a fixed order, SpliceAI's first).
 * The CLI itself names no model family.
 */
export function defaultModel(manager: ModelManager, io: CliIO): string {
  const configured = findProject(io.cwd).config.defaultModel;
  if (configured) return configured;
  const first = manager.adapters[0];
  if (!first) {
    throw new ModelNotFoundError('no adapter is registered, so --model has no default', {
      hint: 'install an adapter package (e.g. @metaspliceai/adapter-spliceai) or pass --adapter <package or path>',
    });
  }
  return first.id;
}
