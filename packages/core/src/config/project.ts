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

/**
 * The models root, by increasing precedence: `data/models` under the project root, the config
 * file's `modelsDir`, the environment variable METASPLICEAI_MODELS_DIR, the explicit option.
 */
export function resolveModelsDir(options: { modelsDir?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const cwd = options.cwd ?? process.cwd();
  if (options.modelsDir) return resolve(cwd, options.modelsDir);
  const fromEnv = (options.env ?? process.env)[MODELS_DIR_ENV];
  if (fromEnv) return resolve(cwd, fromEnv);
  const project = findProject(cwd);
  if (project.config.modelsDir && project.configFile) {
    const dir = project.config.modelsDir;
    return isAbsolute(dir) ? dir : resolve(dirname(project.configFile), dir);
  }
  return join(project.root, 'data', 'models');
}
