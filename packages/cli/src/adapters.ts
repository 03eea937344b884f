import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BaseModelAdapter, InvalidArgumentError, type ModelManager } from '@metaspliceai/core';

/** The adapters this CLI ships with; each is optional, so a slim install still runs. */
const BUILTIN_ADAPTERS = [
  { module: '@metaspliceai/adapter-spliceai', factory: 'createSpliceAIAdapter' },
  { module: '@metaspliceai/adapter-openspliceai', factory: 'createOpenSpliceAIAdapter' },
  { module: '@metaspliceai/adapter-pangolin', factory: 'createPangolinAdapter' },
] as const;

/** Registers the built-in adapters that are installed, then the user's `--adapter` modules. */
export async function registerAdapters(manager: ModelManager, extra: readonly string[] = []): Promise<void> {
  for (const { module, factory } of BUILTIN_ADAPTERS) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(module)) as Record<string, unknown>;
    } catch {
      continue; // not installed: its models are simply not listed
    }
    const create = mod[factory];
    if (typeof create === 'function') manager.register((create as () => BaseModelAdapter)());
  }
  for (const spec of extra) manager.register(await importAdapter(spec));
}

/**
 * Loads a third-party adapter from a package name or a file path. The module exports a factory
 * (`default` or `createAdapter`) or an adapter object (`default` or `adapter`).
 */
export async function importAdapter(spec: string): Promise<BaseModelAdapter> {
  const looksLikePath = spec.startsWith('.') || isAbsolute(spec) || /\.[cm]?js$/.test(spec);
  const target = looksLikePath ? pathToFileURL(resolve(spec)).href : spec;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(target)) as Record<string, unknown>;
  } catch (cause) {
    throw new InvalidArgumentError(`--adapter ${spec}: cannot import it (${(cause as Error).message.split('\n')[0]})`, {
      cause,
      hint: looksLikePath ? 'give the path of the adapter module (its built .js file)' : `install it first: npm install ${spec}`,
    });
  }
  for (const name of ['default', 'createAdapter', 'adapter']) {
    const value = mod[name];
    if (typeof value === 'function') return (value as () => BaseModelAdapter)();
    if (value && typeof value === 'object' && 'specificationVersion' in value) return value as BaseModelAdapter;
  }
  throw new InvalidArgumentError(`--adapter ${spec}: the module exports no adapter`, {
    hint: 'export a factory as default or createAdapter, or an adapter object as default or adapter',
  });
}
