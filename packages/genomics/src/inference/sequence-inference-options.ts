/**
 * `new SequenceInference(options)` as a zod schema: the manager's load fields (context, set,
 * backend, device, threads) under their SequenceInference names, plus the tiling. The CLI's
 * --tile-size and --batch-size go through the same fields.
 */
import { loadModelOptionsSchema, objectOf, optionsObject, text, wholeNumber } from '@metaspliceai/core';

const load = loadModelOptionsSchema.shape;

export const sequenceInferenceOptionsSchema = optionsObject({
  models: objectOf('a ModelManager or a loaded model').optional(),
  baseModelType: text('an adapter id').optional(),
  contextWindow: load.context,
  setName: load.setName,
  backend: load.backend,
  device: load.device,
  threads: load.threads,
  tileSize: wholeNumber({ min: 1 }).optional(),
  batchSize: wholeNumber({ min: 1 }).optional(),
});
