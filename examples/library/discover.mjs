// Discover: find every base-model set under a models folder, with the adapters you register.
//   METASPLICEAI_MODELS_DIR=../shared/models node examples/library/discover.mjs
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModelManager } from '@metaspliceai/core';
import { createOpenSpliceAIAdapter } from '@metaspliceai/adapter-openspliceai';
import { createSpliceAIAdapter } from '@metaspliceai/adapter-spliceai';

const modelsDir = resolve(process.env.METASPLICEAI_MODELS_DIR ?? fileURLToPath(new URL('../../../shared/models', import.meta.url)));

// Registration is explicit: a manager knows only the adapters it is given.
const manager = createModelManager({ modelsDir }).register(createSpliceAIAdapter()).register(createOpenSpliceAIAdapter());

// Discovery reads each file's context from its weights, then groups files into sets (ensembles).
const { modelSets, problems } = await manager.discover();
console.log(`${modelSets.length} model set(s) under ${modelsDir}`);
for (const set of modelSets) {
  console.log([set.adapter, set.name, `${set.context} nt`, `${set.members.length} member(s)`, set.architecture, set.license ?? 'licence unknown'].join('\t'));
}
for (const problem of problems) console.warn(`warning: ${problem.message}`);
