import {
  createModelManager,
  type Device,
  findProject,
  type LoadedModel,
  loadModelOptionsSchema,
  type ModelManager,
  ModelNotFoundError,
  type ModelSet,
  modelSetKey,
  parseFlags,
} from '@metaspliceai/core';
import { sequenceInferenceOptionsSchema } from '@metaspliceai/genomics';
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

const tilingFlagsSchema = sequenceInferenceOptionsSchema.pick({ tileSize: true, batchSize: true });

/**
 * The model flags of the commands that run `SequenceInference` (predict, evaluate): `modelFlags`
 * plus --tile-size and --batch-size, named as `SequenceInference` takes them.
 */
export function inferenceFlags(opts: { context?: string; device?: string; threads?: string; tileSize?: string; batchSize?: string }): {
  contextWindow?: number;
  device?: Device;
  threads?: number;
  tileSize?: number;
  batchSize?: number;
} {
  const { context, device, threads } = modelFlags(opts);
  const { tileSize, batchSize } = parseFlags(
    tilingFlagsSchema,
    { tileSize: opts.tileSize, batchSize: opts.batchSize },
    { tileSize: '--tile-size', batchSize: '--batch-size' },
  );
  return { contextWindow: context, device, threads, tileSize, batchSize };
}

/** The `model:` note of the commands that run a set: the set, its members, where it runs and its licence. */
export function modelNote(set: ModelSet, model: LoadedModel, license: string | undefined): string {
  const members = `${set.members.length} member${set.members.length === 1 ? '' : 's'}`;
  return `model: ${modelSetKey(set)} (${members}, ${model.backend} on ${model.device})${license ? `; licence: ${license}` : ''}`;
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
