import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import pkg from '../package.json' with { type: 'json' };

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

describe('a third-party adapter uses only the public core API', () => {
  it('imports @metaspliceai/core by its package name only (no deep or relative paths into core)', () => {
    const specifiers = readdirSync(SRC)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(SRC + f, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]));
    const external = specifiers.filter((s) => !s.startsWith('./'));
    expect(external.filter((s) => s.includes('metaspliceai'))).toSatisfy((list: string[]) => list.every((s) => s === '@metaspliceai/core'));
    expect(new Set(external)).toEqual(new Set(['@metaspliceai/core', 'zod', 'node:fs']));
  });

  it('takes core as a peer, so one copy of core serves the CLI and every adapter', () => {
    expect(pkg.peerDependencies).toEqual({ '@metaspliceai/core': 'workspace:^' });
    expect(pkg.dependencies).not.toHaveProperty('@metaspliceai/core');
  });
});
