import { modelInfoSchema } from '@metaspliceai/core';
import { z } from 'zod';

/** model_info.json for SpliceAI sets: core's fields plus the Keras version the files were saved with. */
export const spliceAIModelInfoSchema = modelInfoSchema.extend({
  kerasVersion: z.string().optional(),
  trainingAnnotation: z.string().optional(),
});

export type SpliceAIModelInfo = z.infer<typeof spliceAIModelInfoSchema>;
