import { modelInfoSchema } from '@metaspliceai/core';
import { z } from 'zod';

/**
 * model_info.json for PWM sets: core's fields plus the species the frequencies were tabulated in,
 * so `models index`, `validate` and `show` work for this family as for the built-in ones.
 */
export const pwmModelInfoSchema = modelInfoSchema.extend({
  species: z.string().optional(),
});

export type PwmModelInfo = z.infer<typeof pwmModelInfoSchema>;
