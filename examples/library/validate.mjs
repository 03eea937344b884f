// Validate: check every set (members readable, contexts agree, metadata and checksums if recorded).
// Exits 1 when a set is invalid, so it can gate a pipeline.
//   METASPLICEAI_MODELS_DIR=../shared/models node examples/library/validate.mjs [adapter]
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModelManager } from '@metaspliceai/core';
import { createOpenSpliceAIAdapter } from '@metaspliceai/adapter-openspliceai';
import { createSpliceAIAdapter } from '@metaspliceai/adapter-spliceai';

const modelsDir = resolve(process.env.METASPLICEAI_MODELS_DIR ?? fileURLToPath(new URL('../../../shared/models', import.meta.url)));
const manager = createModelManager({ modelsDir }).register(createSpliceAIAdapter()).register(createOpenSpliceAIAdapter());

const report = await manager.validate({ adapter: process.argv[2] });
for (const set of report.sets) {
  console.log(`${set.valid ? 'ok' : 'INVALID'}\t${set.adapter}/${set.setName}/${set.context}`);
  for (const issue of set.issues) console.log(`\t${issue.severity}: ${issue.message}`);
}
for (const issue of report.issues) console.log(`${issue.severity}: ${issue.message}`);
console.log(report.valid ? `valid: ${report.sets.length} set(s)` : 'invalid');
process.exitCode = report.valid ? 0 : 1;
