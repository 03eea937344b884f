/** `new SpliceGraphBuilder(options)` as a zod schema, checked with core's shared message. */
import { flag, objectOf, oneOf, optionsObject, text, wholeNumber } from '@metaspliceai/core';

export const spliceGraphOptionsSchema = optionsObject({
  name: text('a graph name').optional(),
  inputChannels: wholeNumber({ min: 1 }).optional(),
  convLayout: oneOf(['conv2d', 'conv1d']).optional(),
  foldBatchNorm: flag().optional(),
  trimToNeeded: flag().optional(),
  inputName: text('a tensor name').optional(),
  outputName: text('a tensor name').optional(),
  metadata: objectOf<Readonly<Record<string, string>>>('an object of string values').optional(),
});
