/**
 * `new VariantScorer(options)` as a zod schema: the constructor checks its options here, with the
 * shared message (`VariantScorer: dist must be a whole number from 0 to 10000, got 20000`), and the
 * CLI's --precision and --batch-size go through the same fields (its -D keeps SpliceAI's 0..4999).
 */
import { flag, objectOf, oneOf, optionsObject, VARIANT_ENCODINGS, wholeNumber } from '@metaspliceai/core';

/**
 * The largest distance the library scores: SpliceAI-lookup's limit. SpliceAI's own command line
 * stops at 4999, and so does `metaspliceai score -D`; nothing in the windowing needs either bound.
 */
export const MAX_SCORING_DISTANCE = 10_000;

export const variantScorerOptionsSchema = optionsObject({
  model: objectOf('a loaded model (the model of ModelManager.load)'),
  fasta: objectOf('an open FASTA reader (openFasta)'),
  annotation: objectOf('an annotation table or index (loadAnnotation)'),
  dist: wholeNumber({ min: 0, max: MAX_SCORING_DISTANCE }).optional(),
  mask: flag().optional(),
  encoding: oneOf(VARIANT_ENCODINGS).optional(),
  precision: wholeNumber({ min: 0, max: 20 }).optional(),
  batchSize: wholeNumber({ min: 1 }).optional(),
  shareReference: flag().optional(),
  referenceTileSize: wholeNumber({ min: 1 }).optional(),
  recomputeChangesOnly: flag().optional(),
  keepRows: flag().optional(),
});
