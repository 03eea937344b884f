import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { InvalidArgumentError } from '../errors.js';

export const CONFIG_FILE_NAME = 'metaspliceai.config.json';
export const MODELS_DIR_ENV = 'METASPLICEAI_MODELS_DIR';

/** `metaspliceai.config.json`: paths are relative to the file's folder. */
export const projectConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  modelsDir: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  /** The adapter id `--model` means when left out (score, serve); default: the first adapter registered. */
  defaultModel: z.string().min(1).optional(),
});
export type ProjectConfig = z.infer<typeof projectConfigSchema>;

export interface ProjectLocation {
  root: string;
  /** The config file that was read, when there is one. */
  configFile?: string;
  config: ProjectConfig;
}

/**
 * Finds the project root: the nearest folder holding `metaspliceai.config.json`, else the nearest
 * holding package.json or .git, else `start` itself.
 */
export function findProject(start: string = process.cwd()): ProjectLocation {
  const from = resolve(start);
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, CONFIG_FILE_NAME);
    if (existsSync(file)) return { root: dir, configFile: file, config: readProjectConfig(file) };
    if (dir === dirname(dir)) break;
  }
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) || existsSync(join(dir, '.git'))) return { root: dir, config: {} };
    if (dir === dirname(dir)) break;
  }
  return { root: from, config: {} };
}

export function readProjectConfig(file: string): ProjectConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new InvalidArgumentError(`${file}: not valid JSON`, { cause, hint: 'fix or remove the config file' });
  }
  const parsed = projectConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidArgumentError(`${file}: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`, {
      hint: `allowed keys: ${Object.keys(projectConfigSchema.shape).join(', ')}`,
    });
  }
  return parsed.data;
}

export const DATA_DIR_ENV = 'METASPLICEAI_DATA_DIR';

interface DirOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * A project folder, by increasing precedence: `<project root>/<fallback>`, the config file's key,
 * the environment variable, the explicit option. Relative config paths are relative to the config
 * file, the others to `cwd`.
 */
function resolveProjectDir(explicit: string | undefined, envName: string, key: 'modelsDir' | 'dataDir', fallback: string, options: DirOptions): string {
  const cwd = options.cwd ?? process.cwd();
  if (explicit) return resolve(cwd, explicit);
  const fromEnv = (options.env ?? process.env)[envName];
  if (fromEnv) return resolve(cwd, fromEnv);
  const project = findProject(cwd);
  const configured = project.config[key];
  if (configured && project.configFile) return isAbsolute(configured) ? configured : resolve(dirname(project.configFile), configured);
  return join(project.root, fallback);
}

/**
 * The models root: `data/models` under the project root, the config file's `modelsDir`, the
 * environment variable METASPLICEAI_MODELS_DIR, or the explicit option (later wins).
 */
export function resolveModelsDir(options: DirOptions & { modelsDir?: string } = {}): string {
  return resolveProjectDir(options.modelsDir, MODELS_DIR_ENV, 'modelsDir', join('data', 'models'), options);
}

/**
 * The data folder (annotation tables live in `<data>/annotations/`): `data` under the project root,
 * the config file's `dataDir`, $METASPLICEAI_DATA_DIR, or the explicit option (later wins).
 */
export function resolveDataDir(options: DirOptions & { dataDir?: string } = {}): string {
  return resolveProjectDir(options.dataDir, DATA_DIR_ENV, 'dataDir', 'data', options);
}
