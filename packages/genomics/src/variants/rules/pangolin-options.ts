/**
 * `new PangolinScorer(options)` as a zod schema: the constructor checks its options here with the
 * shared message, and the CLI's -D and -s go through fields of the same builders.
 */
import { finiteNumber, flag, objectOf, oneOf, optionsObject, VARIANT_ENCODINGS, wholeNumber } from '@metaspliceai/core';
import { MAX_SCORING_DISTANCE } from '../scorer-options.js';

export const pangolinScorerOptionsSchema = optionsObject({
  model: objectOf('a loaded model (the model of ModelManager.load)'),
  fasta: objectOf('an open FASTA reader (openFasta)'),
  genes: objectOf('PangolinGenes or a gene model (loadPangolinGenes)'),
  dist: wholeNumber({ min: 0, max: MAX_SCORING_DISTANCE }).optional(),
  mask: flag().optional(),
  cutoff: finiteNumber().optional(),
  encoding: oneOf(VARIANT_ENCODINGS).optional(),
  batchSize: wholeNumber({ min: 1 }).optional(),
  recomputeChangesOnly: flag().optional(),
});
