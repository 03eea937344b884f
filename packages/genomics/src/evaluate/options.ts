/**
 * `runEvaluation(options)` as a zod schema, checked with the shared message before any gene is
 * read; the CLI's evaluate flags are its own strings and go through fields of the same builders.
 * `tnSample` (a factor, `all` or `none`) keeps its own check in `checkLabelOptions`.
 */
import { callback, flag, objectOf, oneOf, optionsObject, probability, text, wholeNumber } from '@metaspliceai/core';

export const evaluateOptionsSchema = optionsObject({
  fasta: objectOf('an open FASTA reader (openFasta)'),
  annotation: text('a GTF, GFF3 or annotation table path'),
  inference: objectOf('a SequenceInference'),
  outputDir: text('a folder path'),
  format: oneOf(['tsv', 'parquet']).optional(),
  nucleotideScores: flag().optional(),
  force: flag().optional(),
  chunkGenes: wholeNumber({ min: 1 }).optional(),
  chunkBases: wholeNumber({ min: 1 }).optional(),
  transcripts: oneOf(['all', 'canonical']).optional(),
  threshold: probability().optional(),
  window: wholeNumber({ min: 0 }).optional(),
  errorWindow: wholeNumber({ min: 0 }).optional(),
  seed: wholeNumber().optional(),
  onTotal: callback().optional(),
  onGene: callback().optional(),
  onNote: callback().optional(),
  now: callback().optional(),
});
