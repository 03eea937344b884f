import { z } from 'zod';
import { OUTPUT_CLASSES } from '../adapter/contract.js';

/** The schema version written by this core; readers accept only versions they know. */
export const MODEL_INFO_SCHEMA_VERSION = 1;

/** A path inside a set folder: relative, `/`-separated, never leaving the folder. */
const setRelativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !/^[a-zA-Z]:/.test(p) && !p.split(/[\\/]/).includes('..'), {
    message: 'must be a relative path inside the set folder (no leading "/" and no "..")',
  });

export const modelFileEntrySchema = z.object({
  path: setRelativePath,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits'),
  size: z.number().int().nonnegative(),
  memberId: z.string().optional(),
});

/**
 * Expected outputs for a short canonical input, checked by the health check. `outputs` rows hold
 * the model's tracks (`tracks`, in order; `[neither, acceptor, donor]` when absent, as files written
 * before contract v2 have them) for every position of `sequence`.
 */
export const goldenOutputsSchema = z.object({
  sequence: z.string().min(1),
  tracks: z.array(z.string().min(1)).min(1).optional(),
  outputs: z.array(z.array(z.number()).min(1)),
  tolerance: z.number().positive().default(1e-4),
});

/** `metadata/model_info.json`, core's part. Adapters extend it with their family's fields. */
export const modelInfoSchema = z.looseObject({
  schemaVersion: z.literal(MODEL_INFO_SCHEMA_VERSION),
  adapter: z.string().min(1),
  setName: z.string().min(1),
  context: z.number().int().positive(),
  /** The three splice classes, for sets whose tracks are exactly those (as before contract v2). */
  outputClasses: z.array(z.enum(OUTPUT_CLASSES)).length(3).optional(),
  /** The names of the tracks a whole set predicts, in output order. */
  tracks: z.array(z.string().min(1)).min(1).optional(),
  files: z.array(modelFileEntrySchema).min(1),
  source: z.object({ url: z.string().optional(), description: z.string().optional() }).optional(),
  license: z.string().optional(),
  citation: z.string().optional(),
  species: z.string().optional(),
  assembly: z.string().optional(),
  golden: goldenOutputsSchema.optional(),
  createdBy: z.string().optional(),
});

export type ModelInfo = z.infer<typeof modelInfoSchema>;
export type ModelFileEntry = z.infer<typeof modelFileEntrySchema>;
export type GoldenOutputs = z.infer<typeof goldenOutputsSchema>;
