// Score variants: annotate a VCF with SpliceAI-format delta scores (`SpliceAI=ALT|GENE|DS_AG|...`)
// from any base model, here the 80-nt OpenSpliceAI ensemble.
//   METASPLICEAI_MODELS_DIR=../shared/models node examples/library/score.mjs [in.vcf] > out.vcf
// The reference genome comes from $METASPLICEAI_REFERENCE (default: the hg19 chr10 excerpt in
// ../shared/data); the annotation is the TUBB8 row in data/ (SpliceAI's table format).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModelManager } from '@metaspliceai/core';
import { annotateVcf, loadAnnotation, openFasta, VariantScorer } from '@metaspliceai/genomics';
import { createOpenSpliceAIAdapter } from '@metaspliceai/adapter-openspliceai';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const modelsDir = resolve(process.env.METASPLICEAI_MODELS_DIR ?? here('../../../shared/models'));
const reference = resolve(process.env.METASPLICEAI_REFERENCE ?? here('../../../shared/data/chr10_hg19_test.fa'));
const input = process.argv[2] ?? here('data/tiny.vcf');

const manager = createModelManager({ modelsDir }).register(createOpenSpliceAIAdapter());
const loaded = await manager.load({ adapter: 'openspliceai', context: 80 });
try {
  const scorer = new VariantScorer({
    model: loaded.model,
    fasta: await openFasta(reference),
    annotation: (await loadAnnotation(here('data/tubb8_grch37.tsv'))).table,
    dist: 50,
    // OpenSpliceAI reads every non-ACGT base as N; `spliceai` reproduces SpliceAI's own quirk.
    encoding: 'acgt',
  });
  const summary = await annotateVcf({
    scorer,
    input,
    output: process.stdout,
    headerLines: [`##metaspliceai_model=${loaded.set.adapter}/${loaded.set.name}/${loaded.set.context} licence=${loaded.license}`],
    onWarning: (w) => console.error(`warning: ${w.message}`),
  });
  console.error(`scored ${summary.scored} of ${summary.records} record(s) in ${summary.seconds.toFixed(2)} s`);
} finally {
  await loaded.dispose();
}
