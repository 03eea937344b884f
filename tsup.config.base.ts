import type { Options } from 'tsup';

/** The build every package shares: ESM with declarations for Node 20, class names kept for errors. */
export function libraryBuild(entry: string[] = ['src/index.ts']): Options {
  return { entry, format: ['esm'], dts: true, clean: true, target: 'node20', keepNames: true };
}
