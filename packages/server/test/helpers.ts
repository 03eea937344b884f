import { resolve } from 'node:path';
import { createModelManager, type LoadedModelSet } from '@metaspliceai/core';
import { createOpenSpliceAIAdapter } from '@metaspliceai/adapter-openspliceai';
import { createSpliceAIAdapter } from '@metaspliceai/adapter-spliceai';
import { MODELS_DIR, SHARED } from '../../../test-support/shared.js';
import { type LookupGenome, lookupModelFrom, type LookupModel, openLookupGenome } from '../src/index.js';

export const FASTA = resolve(SHARED, 'data', 'chr10_hg19_test.fa');
export const TUBB8 = resolve(SHARED, 'fixtures', 'tubb8_grch37.tsv');

/** The SpliceAI ensemble (5 members, onnx on the CPU) and the chr10 test genome as hg=37. */
export async function loadSpliceAI(): Promise<{ loaded: LoadedModelSet; model: LookupModel; genome: LookupGenome }> {
  const manager = createModelManager({ modelsDir: MODELS_DIR }).register(createSpliceAIAdapter());
  const loaded = await manager.load({ adapter: 'spliceai', backend: 'onnx', threads: 2 });
  return { loaded, model: await lookupModelFrom(loaded, 'spliceai'), genome: await openLookupGenome('37', FASTA, TUBB8) };
}

/**
 * The OpenSpliceAI MANE 400-nt set (5 members, onnx): a real ensemble small enough to serve many
 * requests in a test (the 10000-nt figures are `pnpm bench --only server`).
 */
export async function loadOpenSpliceAI400(): Promise<{ loaded: LoadedModelSet; model: LookupModel }> {
  const manager = createModelManager({ modelsDir: MODELS_DIR }).register(createOpenSpliceAIAdapter());
  const loaded = await manager.load({ adapter: 'openspliceai', setName: 'openspliceai-mane', context: 400, threads: 2 });
  return { loaded, model: await lookupModelFrom(loaded, 'acgt') };
}
