/**
 * `new VariantScorer(options)` as a zod schema: the constructor checks its options here, with the
 * shared message (`VariantScorer: dist must be a whole number from 0 to 4999, got 5000`), and the
 * CLI's -D, --precision and --batch-size go through the same fields.
 */
import { flag, objectOf, oneOf, optionsObject, VARIANT_ENCODINGS, wholeNumber } from '@metaspliceai/core';

export const variantScorerOptionsSchema = optionsObject({
  model: objectOf('a loaded model (the model of ModelManager.load)'),
  fasta: objectOf('an open FASTA reader (openFasta)'),
  annotation: objectOf('an annotation table or index (loadAnnotation)'),
  dist: wholeNumber({ min: 0, max: 4999 }).optional(),
  mask: flag().optional(),
  encoding: oneOf(VARIANT_ENCODINGS).optional(),
  precision: wholeNumber({ min: 0, max: 20 }).optional(),
  batchSize: wholeNumber({ min: 1 }).optional(),
  shareReference: flag().optional(),
  referenceTileSize: wholeNumber({ min: 1 }).optional(),
  recomputeChangesOnly: flag().optional(),
  keepRows: flag().optional(),
});
