// Load and predict: load a set as one ensemble and get [neither, acceptor, donor] per position.
//   METASPLICEAI_MODELS_DIR=../shared/models node examples/library/predict.mjs [SEQUENCE]
// Without a sequence it predicts TUBB8 exon 3 with 55 nt of intron on each side, in the gene's
// orientation (hg19 chr10:94500-94720, reverse strand): its acceptor is at position 56 and its
// donor at 166 (SpliceAI labels the first and the last exonic base).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModelManager } from '@metaspliceai/core';
import { SequenceInference } from '@metaspliceai/genomics';
import { createOpenSpliceAIAdapter } from '@metaspliceai/adapter-openspliceai';

const TUBB8_EXON3 =
  'CCGCCCTCCTGGGAACGCGGCCCTCCCCTCGCTCATGCCCTCCCGCCCCACGCAGGTGGCAGGTACGTGCCCCGCGCTGTGCTCGTGGATCTGGAGCC' +
  'GGGCACCATGGACTCTGTGCGCTCGGGGCCCTTCGGGCAGGTCTTCAGGCCAGACAACTTCATCTTCGGTGAGCTGCGGGCGAGGACTGGGGTGCGGCTC' +
  'CTTAGCCAGGGCAGCTCAAAATC';
const sequence = process.argv[2] ?? TUBB8_EXON3;

const modelsDir = resolve(process.env.METASPLICEAI_MODELS_DIR ?? fileURLToPath(new URL('../../../shared/models', import.meta.url)));
const manager = createModelManager({ modelsDir }).register(createOpenSpliceAIAdapter());

// The small 80-nt OpenSpliceAI ensemble loads in a blink; drop contextWindow for the largest.
const inference = new SequenceInference({ models: manager, baseModelType: 'openspliceai', contextWindow: 80 });
try {
  const { probabilities, length } = await inference.predictSequence(sequence, { name: 'query' });
  const { set, license } = inference;
  console.log(`model\t${set.adapter}/${set.name}/${set.context} (${set.members.length} members, licence ${license ?? 'unknown'})`);
  for (const [label, cls] of [
    ['acceptor', 1],
    ['donor', 2],
  ]) {
    let best = 0;
    for (let i = 1; i < length; i++) if (probabilities[i * 3 + cls] > probabilities[best * 3 + cls]) best = i;
    console.log(`${label}\t${best + 1}\t${probabilities[best * 3 + cls].toFixed(4)}`);
  }
} finally {
  await inference.dispose();
}
