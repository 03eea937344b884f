import { z } from 'zod';

/**
 * Zod schemas for the parts of a Keras 2 `model_config` JSON this adapter reads. Only the fields
 * used are checked (Keras stores many more: initialisers, regularisers, constraints), so a file
 * written by a later Keras 2 with extra fields still reads, while a setting the runtime would
 * silently get wrong (causal padding, strides, channels-first) is refused.
 */

/** `[layer_name, node_index, tensor_index, kwargs?]`, how Keras 2 names a layer's input. */
const inboundRef = z.tuple([z.string(), z.number().int(), z.number().int()], z.unknown());

/** One entry of `config.layers`; the class-specific `config` is checked later, per class. */
export const kerasLayerEntrySchema = z.object({
  class_name: z.string(),
  name: z.string().optional(),
  config: z.record(z.string(), z.unknown()),
  inbound_nodes: z.array(z.array(inboundRef)).default([]),
});

/** A functional Keras 2 model (`Model`, or `Functional` in later Keras 2 releases). */
export const kerasModelConfigSchema = z.object({
  class_name: z.enum(['Model', 'Functional']),
  config: z.object({
    layers: z.array(kerasLayerEntrySchema).min(1),
    input_layers: z.array(inboundRef).length(1, 'exactly one input is supported'),
    output_layers: z.array(inboundRef).length(1, 'exactly one output is supported'),
  }),
});

/** The validated top level of a functional model's config. */
export type KerasModelConfig = z.infer<typeof kerasModelConfigSchema>;
/** One validated layer entry, its class-specific `config` still unchecked. */
export type KerasLayerEntry = z.infer<typeof kerasLayerEntrySchema>;

/** Keras writes 1-D sizes as `[n]`; older configs sometimes as `n`. */
const size1 = z.union([z.number().int().positive(), z.tuple([z.number().int().positive()])]).transform((v) => (typeof v === 'number' ? v : v[0]));

const activation = z.enum(['linear', 'relu', 'softmax']);

/** Conv1D: stride 1, channels-last, 'same' or 'valid' padding (causal would shift every output). */
export const conv1dConfigSchema = z.object({
  filters: z.number().int().positive(),
  kernel_size: size1,
  strides: size1.default(1).refine((s) => s === 1, 'only stride 1 is supported'),
  dilation_rate: size1.default(1),
  padding: z.enum(['same', 'valid']),
  activation: activation.default('linear'),
  use_bias: z.boolean().default(true),
  data_format: z.literal('channels_last').optional(),
});

/** BatchNormalization over the channel axis; epsilon is read, never assumed (Keras 1e-3, PyTorch 1e-5). */
export const batchNormConfigSchema = z.object({
  epsilon: z.number().positive(),
  // -1 and 2 both mean the channel axis of a (batch, length, channels) tensor.
  axis: z
    .union([z.number().int(), z.tuple([z.number().int()])])
    .default(-1)
    .transform((a) => (typeof a === 'number' ? a : a[0]))
    .refine((a) => a === -1 || a === 2, 'only normalisation over the channel axis (-1) is supported'),
  center: z.boolean().default(true),
  scale: z.boolean().default(true),
});

/** Activation layers: only the functions a SpliceAI network uses. */
export const activationConfigSchema = z.object({ activation });

/** Cropping1D, normalised to `[start, end]`; the crops define the model's context. */
export const cropping1dConfigSchema = z.object({
  cropping: z
    .union([z.number().int().nonnegative(), z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])])
    .transform((c): [number, number] => (typeof c === 'number' ? [c, c] : [c[0], c[1]])),
});

/** InputLayer: `(batch, length, channels)`, float32; the channel count is checked against the first conv. */
export const inputLayerConfigSchema = z.object({
  batch_input_shape: z.array(z.number().int().positive().nullable()).length(3, 'expected (batch, length, channels)').optional(),
  dtype: z.literal('float32').optional(),
});

/** Formats zod issues as `path: message; ...`, short enough for one error line. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') + ': ' : ''}${issue.message}`)
    .join('; ');
}
