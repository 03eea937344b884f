import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createOpenSpliceAIAdapter } from '@metaspliceai/adapter-openspliceai';
import { createPangolinAdapter } from '@metaspliceai/adapter-pangolin';
import { createSpliceAIAdapter } from '@metaspliceai/adapter-spliceai';

/**
 * Family knowledge lives in the adapters: core, genomics, the CLI and the server name no adapter id
 * in their code (TSDoc and comments may, as docs). The few places that must spell one of these
 * words name something else that happens to share it, and are listed with their reason and count,
 * so a new use anywhere fails here.
 */
const PACKAGES = fileURLToPath(new URL('../../', import.meta.url));
const SCANNED = ['core/src', 'genomics/src', 'cli/src', 'server/src'];
const IDS = [createSpliceAIAdapter(), createOpenSpliceAIAdapter(), createPangolinAdapter()].map((a) => a.id);

const ALLOWED: Record<string, { count: number; why: string }> = {
  'core/src/sequence/variant-encoding.ts': { count: 1, why: "the name of SpliceAI's one_hot_encode encoding, declared once (VARIANT_ENCODINGS)" },
  'genomics/src/variants/rules/index.ts': {
    count: 2,
    why: 'the names of the two VCF formats the scoring rules write, declared once (SPLICEAI_RULE, PANGOLIN_RULE)',
  },
  'core/src/testing/mock-adapter.ts': { count: 1, why: "the conformance kit's mock adapter declares a default scoring rule, as any adapter does" },
  'server/src/app.ts': { count: 5, why: "SpliceAI-lookup's HTTP API: its route names and its `source` values" },
  'server/src/engine.ts': { count: 2, why: "SpliceAI-lookup's HTTP API: the `source` and `tool` values of /spliceai/ answers" },
  'server/src/pangolin.ts': { count: 4, why: "SpliceAI-lookup's HTTP API: the `source` and `tool` values of /pangolin/ answers" },
};

function* tsFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** Quoted ids in code, with comments left out (docs may name families). */
function idsInCode(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const quoted = new RegExp(`(['"\`])(${IDS.join('|')})\\1`, 'g');
  return [...code.matchAll(quoted)].map((m) => m[2]);
}

describe('family ids stay in the adapters', () => {
  it('the adapters are the three families this scan looks for', () => {
    expect(IDS.sort()).toEqual(['openspliceai', 'pangolin', 'spliceai']);
  });

  it('core, genomics, the CLI and the server name no adapter id in code, bar the listed exceptions', () => {
    const found: Record<string, number> = {};
    for (const dir of SCANNED) {
      for (const file of tsFiles(join(PACKAGES, dir))) {
        const hits = idsInCode(readFileSync(file, 'utf8'));
        if (hits.length) found[relative(PACKAGES, file)] = hits.length;
      }
    }
    const unexpected = Object.entries(found).filter(([file, n]) => n > (ALLOWED[file]?.count ?? 0));
    expect(unexpected, 'a family id in shared code: make it data the adapter declares').toEqual([]);
    // An exception that is no longer needed is removed from the list, so the list stays true.
    const stale = Object.entries(ALLOWED).filter(([file, { count }]) => (found[file] ?? 0) < count);
    expect(stale).toEqual([]);
  });

  it('the scan finds a quoted id in code and ignores one in a comment', () => {
    expect(idsInCode(`const a = 'spliceai'; // 'pangolin'\n/** \`openspliceai\` */ const b = "pangolin";`)).toEqual(['spliceai', 'pangolin']);
  });
});
