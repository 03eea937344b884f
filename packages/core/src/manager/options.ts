/**
 * The manager's options as zod schemas: `createModelManager`, `resolve` and `load` check them
 * here, and the CLI runs its --context, --device, --threads, --backend and --set flags through the
 * same fields (`parseFlags`), so a flag is checked once, with one message.
 */
import { z } from 'zod';
import { callback, flag, oneOf, text, wholeNumber } from '../config/options.js';

/** `createModelManager(options)`. */
export const modelManagerOptionsSchema = z.looseObject({
  modelsDir: text('a folder path').optional(),
  cwd: text('a folder path').optional(),
  strict: flag().optional(),
  onWarning: callback().optional(),
});

/** `manager.resolve(query)`: which set of which adapter. */
export const modelQuerySchema = z.looseObject({
  adapter: text('an adapter id'),
  context: wholeNumber({ min: 1 }).optional(),
  setName: text('a model set name').optional(),
});

/** `manager.load(options)`: the query plus where and how to run it. */
export const loadModelOptionsSchema = modelQuerySchema.extend({
  backend: text('a backend name (auto, or one the adapter lists)').optional(),
  device: oneOf(['cpu', 'gpu']).optional(),
  threads: wholeNumber({ min: 1 }).optional(),
  tracks: z.array(z.string(), { error: 'a list of track names' }).optional(),
  strict: flag().optional(),
  onWarning: callback().optional(),
});
