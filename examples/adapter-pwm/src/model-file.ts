import { promises as fs } from 'node:fs';
import { ModelFileError } from '@metaspliceai/core';
import { z } from 'zod';

/** The `format` field every PWM model file carries, so a stray `.pwm.json` is refused early. */
export const PWM_FORMAT = 'metaspliceai-pwm';
/** The layout version of the file; a reader refuses versions it does not know. */
export const PWM_FORMAT_VERSION = 1;

/** One matrix row: the frequencies of A, C, G, T at a position (they must sum to about 1). */
const frequencyRow = z
  .tuple([z.number(), z.number(), z.number(), z.number()])
  .refine((row) => row.every((f) => f > 0 && f < 1), { message: 'frequencies must be strictly between 0 and 1 (a zero would give an infinite log-odds)' })
  .refine((row) => Math.abs(row[0] + row[1] + row[2] + row[3] - 1) < 0.01, { message: 'the frequencies of A, C, G and T must sum to 1 (within 0.01)' });

/**
 * One motif: a frequency matrix, the index of the base the model labels (SpliceAI's convention:
 * the first exonic base for an acceptor, the last exonic base for a donor) and the prior
 * probability of a site at a position, which sets where the logistic transform crosses 0.5.
 */
export const pwmMotifSchema = z
  .strictObject({
    anchor: z.number().int().nonnegative(),
    prior: z.number().gt(0).lt(0.5),
    frequencies: z.array(frequencyRow).min(1).max(1000),
    positions: z.string().optional(),
  })
  .refine((m) => m.anchor < m.frequencies.length, { message: 'anchor must index a row of frequencies' });

/**
 * A PWM model file (`<set>/<context>nt/<member>.pwm.json`). `context` is the total flank the model
 * is run with; it must cover both motifs' reach on each side of the labelled base, so the model
 * honours the contract that an output depends only on inputs within context/2.
 */
export const pwmModelFileSchema = z
  .strictObject({
    format: z.literal(PWM_FORMAT),
    formatVersion: z.literal(PWM_FORMAT_VERSION),
    name: z.string().min(1),
    version: z.string().min(1),
    context: z.number().int().positive().multipleOf(2),
    background: frequencyRow,
    motifs: z.strictObject({ acceptor: pwmMotifSchema, donor: pwmMotifSchema }),
    source: z.string().optional(),
    citation: z.string().optional(),
    generatedBy: z.string().optional(),
  })
  .refine((m) => m.context / 2 >= requiredHalfContext(m.motifs), {
    message: 'context is too small: context/2 must cover the longest reach of a motif on either side of its labelled base',
  });

export type PwmMotif = z.infer<typeof pwmMotifSchema>;
export type PwmModelFile = z.infer<typeof pwmModelFileSchema>;

/** The flank each side a set of motifs needs: the furthest any row lies from its anchor. */
export function requiredHalfContext(motifs: Record<string, Pick<PwmMotif, 'anchor' | 'frequencies'>>): number {
  return Math.max(...Object.values(motifs).map((m) => Math.max(m.anchor, m.frequencies.length - 1 - m.anchor)));
}

/**
 * Reads and validates a model file. Every failure (missing, truncated, not JSON, wrong shape) is a
 * `ModelFileError` naming the file, so discovery lists it as a broken member instead of crashing.
 */
export async function readPwmModelFile(file: string): Promise<PwmModelFile> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (cause) {
    throw new ModelFileError(file, 'cannot be read', { cause, hint: 'check the path and its permissions' });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ModelFileError(file, 'is not valid JSON (truncated or corrupt?)', {
      cause,
      hint: 'regenerate it with the package script: node scripts/build-model.mjs',
    });
  }
  const parsed = pwmModelFileSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first.path.length ? first.path.join('.') : 'the file';
    throw new ModelFileError(file, `is not a ${PWM_FORMAT} v${PWM_FORMAT_VERSION} model: ${where}: ${first.message}`, {
      cause: parsed.error,
      hint: 'regenerate it with the package script: node scripts/build-model.mjs',
    });
  }
  return parsed.data;
}
