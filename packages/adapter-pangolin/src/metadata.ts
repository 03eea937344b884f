import { modelInfoSchema } from '@metaspliceai/core';
import { z } from 'zod';

/** model_info.json for Pangolin sets: core's fields plus the replicates and the tracks' tissues. */
export const pangolinModelInfoSchema = modelInfoSchema.extend({
  replicates: z.array(z.number().int().positive()).optional(),
  tissues: z.array(z.string()).optional(),
});

export type PangolinModelInfo = z.infer<typeof pangolinModelInfoSchema>;
