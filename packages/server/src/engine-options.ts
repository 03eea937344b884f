/** `new LookupEngine(options)` as a zod schema, checked with core's shared message. */
import { objectOf, optionsObject, wholeNumber } from '@metaspliceai/core';

export const lookupEngineOptionsSchema = optionsObject({
  model: objectOf('a lookup model (lookupModelFrom)'),
  genomes: objectOf<readonly unknown[]>('a list of genomes (openLookupGenome)'),
  cache: objectOf('a ScoreCache').optional(),
  batchSize: wholeNumber({ min: 1 }).optional(),
  maxBatch: wholeNumber({ min: 1 }).optional(),
  precision: wholeNumber({ min: 0, max: 20 }).optional(),
});
