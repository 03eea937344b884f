/**
 * Core is the small contract package adapters peer on: it must never reach into the genome side
 * (`@metaspliceai/genomics`, FASTA/VCF readers, Parquet), or every adapter would install them.
 * Scans the import lines of every source file, so a new import across the seam fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packages = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every module specifier a file imports or re-exports, dynamic imports included. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const statics = /^(?:import|export)\s+(?:type\s+)?(?:[\w*]+\s*,?\s*)?(?:\{[^}]*\}\s*|\*\s+as\s+\w+\s*|\*\s*)?(?:from\s+)?'([^'\n]+)'/gm;
  const dynamic = /\bimport\(\s*'([^'\n]+)'\s*\)/g;
  return [...text.matchAll(statics), ...text.matchAll(dynamic)].map((m) => m[1]);
}

describe('the seam between core and genomics', () => {
  const coreSrc = join(packages, 'core/src');

  it('core imports only zod, Node built-ins and its own files', () => {
    const outside: string[] = [];
    for (const file of sources(coreSrc)) {
      for (const spec of specifiers(file)) {
        const own = spec.startsWith('.') && !relative(coreSrc, resolve(dirname(file), spec)).startsWith('..');
        if (!own && spec !== 'zod' && !spec.startsWith('node:')) outside.push(`${relative(packages, file)}: ${spec}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('core depends on zod alone', () => {
    const pkg = JSON.parse(readFileSync(join(packages, 'core/package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(['zod']);
    expect(pkg.peerDependencies).toBeUndefined();
  });

  it('the adapters and the engines import no genome side', () => {
    const crossing: string[] = [];
    for (const name of ['adapter-spliceai', 'adapter-openspliceai', 'adapter-pangolin', 'onnx', 'torch']) {
      for (const file of sources(join(packages, name, 'src'))) {
        for (const spec of specifiers(file)) if (spec.startsWith('@metaspliceai/genomics')) crossing.push(`${relative(packages, file)}: ${spec}`);
      }
    }
    expect(crossing).toEqual([]);
  });
});
