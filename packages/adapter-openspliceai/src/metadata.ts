import { modelInfoSchema } from '@metaspliceai/core';
import { z } from 'zod';

/** model_info.json for OpenSpliceAI sets: core's fields plus species, flank and seeds. */
export const openSpliceAIModelInfoSchema = modelInfoSchema.extend({
  species: z.string().optional(),
  flank: z.number().int().positive().optional(),
  seeds: z.array(z.number().int().nonnegative()).optional(),
});

export type OpenSpliceAIModelInfo = z.infer<typeof openSpliceAIModelInfoSchema>;
