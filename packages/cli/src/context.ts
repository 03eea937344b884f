import { createModelManager, InvalidArgumentError, type ModelManager } from '@metaspliceai/core';
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

/** Parses an integer option, naming the flag in the error. */
export function parseInteger(flag: string, value: string | undefined, range: { min?: number; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || (range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
    const bounds = range.min !== undefined && range.max !== undefined ? ` from ${range.min} to ${range.max}` : range.min !== undefined ? ` of at least ${range.min}` : '';
    throw new InvalidArgumentError(`${flag} takes a whole number${bounds}, got "${value}"`);
  }
  return n;
}

export function parseDevice(value: string | undefined): 'cpu' | 'gpu' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'cpu' && value !== 'gpu') throw new InvalidArgumentError(`--device takes cpu or gpu, got "${value}"`);
  return value;
}
