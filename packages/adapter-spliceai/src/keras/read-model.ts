import path from 'node:path';
import type { File as H5File, Group as H5Group, Dataset as H5Dataset } from 'h5wasm/node';
import { ModelFileError } from '@metaspliceai/core';
import type { z } from 'zod';
import {
  activationConfigSchema,
  batchNormConfigSchema,
  conv1dConfigSchema,
  cropping1dConfigSchema,
  formatIssues,
  inputLayerConfigSchema,
  kerasModelConfigSchema,
  type KerasLayerEntry,
} from './config-schema.js';
import { KERAS_LAYER_KINDS, type KerasGraph, type KerasLayer, type KerasLayerKind } from './graph.js';
import { inferContext } from './context.js';
import { withH5File } from './h5-file.js';

/**
 * Reads a Keras 2 SpliceAI `.h5` file into a validated {@link KerasGraph}: the layer graph from the
 * `model_config` attribute, the weights from `model_weights`, every shape checked against the
 * config. Failures are {@link ModelFileError}s naming the file, so a corrupt download or a file of
 * another architecture is reported before any runtime is loaded.
 */
export async function readKerasModel(file: string): Promise<KerasGraph> {
  const absolute = path.resolve(file);
  return withH5File(absolute, (h5) => parseKerasFile(absolute, h5, true));
}

/**
 * The shared parser. With `values: false` only shapes are read (fast, for inspection) and every
 * weight array in the result is empty; such a graph must not be run.
 */
export function parseKerasFile(file: string, h5: H5File, values: boolean): KerasGraph {
  const fail = (message: string): never => {
    throw new ModelFileError(file, message);
  };
  const entries = readModelConfig(file, h5);
  const weightsRoot = h5.get('model_weights');
  if (!isGroup(weightsRoot)) fail('has no model_weights group; it is not a Keras model saved with model.save()');

  // Names, classes and inputs, checked before anything is ordered or read.
  const byName = new Map<string, { entry: KerasLayerEntry; kind: KerasLayerKind; inputs: string[] }>();
  for (const entry of entries.layers) {
    const name = entry.name ?? (typeof entry.config.name === 'string' ? entry.config.name : undefined);
    if (name === undefined) fail('model_config has a layer without a name');
    const layerName = name as string;
    if (byName.has(layerName)) fail(`model_config names layer ${layerName} twice`);
    if (!(KERAS_LAYER_KINDS as readonly string[]).includes(entry.class_name)) {
      fail(`layer ${layerName} of class ${entry.class_name} is not supported; SpliceAI files contain ${KERAS_LAYER_KINDS.join(', ')}`);
    }
    if (entry.inbound_nodes.length > 1) fail(`layer ${layerName} is used more than once (shared layers are not supported)`);
    const refs = entry.inbound_nodes[0] ?? [];
    for (const ref of refs) {
      if (ref[1] !== 0 || ref[2] !== 0) fail(`layer ${layerName} reads output ${ref[1]}/${ref[2]} of ${ref[0]}; only single-output layers are supported`);
    }
    const kind = entry.class_name as KerasLayerKind;
    const inputs = refs.map((ref) => ref[0]);
    const arity = kind === 'InputLayer' ? [0, 0] : kind === 'Add' ? [2, Infinity] : [1, 1];
    if (inputs.length < arity[0] || inputs.length > arity[1]) {
      fail(`layer ${layerName} (${kind}) has ${inputs.length} inputs`);
    }
    byName.set(layerName, { entry, kind, inputs });
  }

  const inputName = entries.input;
  const outputName = entries.output;
  if (byName.get(inputName)?.kind !== 'InputLayer') fail(`the model input ${inputName} is not an InputLayer`);
  if (!byName.has(outputName)) fail(`the model output ${outputName} is not a layer of the model`);
  const inputLayers = [...byName.values()].filter((l) => l.kind === 'InputLayer');
  if (inputLayers.length !== 1) fail(`the model has ${inputLayers.length} InputLayers; SpliceAI has one`);

  const order = topologicalOrder(file, byName);

  // Walk in order, building layers and tracking channel counts so every weight shape is checked.
  const channelsOf = new Map<string, number | undefined>();
  const layers: KerasLayer[] = [];
  let parameterCount = 0;
  let inputChannels: number | undefined;
  for (const name of order) {
    const { entry, kind, inputs } = byName.get(name)!;
    const inChannels = inputs.map((i) => channelsOf.get(i));
    const where = `layer ${name} (${kind})`;
    const layer: KerasLayer = { name, kind, inputs };
    switch (kind) {
      case 'InputLayer': {
        const config = parseConfig(file, where, inputLayerConfigSchema, entry.config);
        inputChannels = config.batch_input_shape?.[2] ?? undefined;
        channelsOf.set(name, inputChannels);
        break;
      }
      case 'Conv1D': {
        const config = parseConfig(file, where, conv1dConfigSchema, entry.config);
        const inC = inChannels[0];
        const weights = readWeights(file, weightsRoot as H5Group, name, config.use_bias ? 2 : 1, values);
        const kernel = weights[0]!;
        const expected = [config.kernel_size, inC ?? kernel.shape[1], config.filters];
        checkShape(file, name, kernel, expected);
        if (inC === undefined) {
          // The InputLayer did not state its channels: the first convolution does.
          channelsOf.set(inputs[0]!, kernel.shape[1]);
          if (inputs[0] === inputName) inputChannels = kernel.shape[1];
        }
        const bias = weights[1];
        if (bias) checkShape(file, name, bias, [config.filters]);
        layer.conv = {
          kernel: kernel.data,
          kernelShape: [config.kernel_size, kernel.shape[1]!, config.filters],
          bias: bias?.data,
          dilation: config.dilation_rate,
          padding: config.padding,
          activation: config.activation,
        };
        parameterCount += weights.reduce((sum, w) => sum + w.size, 0);
        channelsOf.set(name, config.filters);
        break;
      }
      case 'BatchNormalization': {
        const config = parseConfig(file, where, batchNormConfigSchema, entry.config);
        const count = (config.scale ? 1 : 0) + (config.center ? 1 : 0) + 2;
        const weights = readWeights(file, weightsRoot as H5Group, name, count, values);
        const channels = inChannels[0] ?? weights[0]!.shape[0]!;
        for (const w of weights) checkShape(file, name, w, [channels]);
        // Keras' order: gamma (if scale), beta (if center), moving_mean, moving_variance.
        let next = 0;
        const fill = (v: number) => new Float32Array(values ? channels : 0).fill(v);
        const gamma = config.scale ? weights[next++]!.data : fill(1);
        const beta = config.center ? weights[next++]!.data : fill(0);
        layer.batchNorm = { gamma, beta, mean: weights[next++]!.data, variance: weights[next]!.data, epsilon: config.epsilon };
        parameterCount += weights.reduce((sum, w) => sum + w.size, 0);
        channelsOf.set(name, channels);
        break;
      }
      case 'Activation': {
        layer.activation = parseConfig(file, where, activationConfigSchema, entry.config).activation;
        channelsOf.set(name, inChannels[0]);
        break;
      }
      case 'Cropping1D': {
        layer.crop = parseConfig(file, where, cropping1dConfigSchema, entry.config).cropping;
        channelsOf.set(name, inChannels[0]);
        break;
      }
      case 'Add': {
        const known = inChannels.filter((c): c is number => c !== undefined);
        if (new Set(known).size > 1) fail(`${where} adds tensors of ${known.join(' and ')} channels`);
        channelsOf.set(name, known[0]);
        break;
      }
    }
    layers.push(layer);
  }

  const outputChannels = channelsOf.get(outputName);
  if (inputChannels === undefined || outputChannels === undefined) fail('the channel counts of the input or output cannot be determined');
  const convs = layers.filter((l) => l.conv !== undefined);
  const wide = convs.filter((l) => l.conv!.kernelShape[0] > 1);
  const channels = (wide[0] ?? convs[0])?.conv?.kernelShape[2];
  if (channels === undefined) fail('the model has no Conv1D layer');

  return {
    file,
    layers,
    input: inputName,
    output: outputName,
    context: inferContext(file, layers, outputName),
    inputChannels: inputChannels as number,
    outputChannels: outputChannels as number,
    channels: channels as number,
    parameterCount,
    residualUnits: Math.floor(wide.length / 2),
  };
}

/** Reads, parses and validates the `model_config` attribute. */
function readModelConfig(file: string, h5: H5File): { layers: KerasLayerEntry[]; input: string; output: string } {
  const attribute = h5.attrs['model_config'];
  if (attribute === undefined) {
    throw new ModelFileError(file, 'has no model_config attribute: it is not a Keras model saved with model.save() (a weights-only file cannot be used)');
  }
  const raw = attribute.value;
  const text = typeof raw === 'string' ? raw : raw instanceof Uint8Array ? new TextDecoder().decode(raw) : undefined;
  if (text === undefined) throw new ModelFileError(file, 'its model_config attribute is not a string');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ModelFileError(file, `its model_config attribute is not valid JSON (${(error as Error).message})`, { cause: error });
  }
  const parsed = kerasModelConfigSchema.safeParse(json);
  if (!parsed.success) {
    throw new ModelFileError(file, `its model_config is not a Keras 2 functional model: ${formatIssues(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  const config = parsed.data.config;
  return { layers: config.layers, input: config.input_layers[0]![0], output: config.output_layers[0]![0] };
}

function parseConfig<S extends z.ZodType>(file: string, where: string, schema: S, config: unknown): z.output<S> {
  const parsed = schema.safeParse(config);
  if (!parsed.success) throw new ModelFileError(file, `${where} has a setting that is not supported: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

/** Orders layers so each comes after its inputs (Kahn's algorithm, stable in config order). */
function topologicalOrder(file: string, byName: Map<string, { inputs: string[] }>): string[] {
  const pending = new Map<string, number>();
  const users = new Map<string, string[]>();
  for (const [name, { inputs }] of byName) {
    pending.set(name, inputs.length);
    for (const input of inputs) {
      if (!byName.has(input)) throw new ModelFileError(file, `layer ${name} reads ${input}, which is not a layer of the model`);
      users.set(input, [...(users.get(input) ?? []), name]);
    }
  }
  const ready = [...byName.keys()].filter((n) => pending.get(n) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    const name = ready.shift()!;
    order.push(name);
    for (const user of users.get(name) ?? []) {
      const left = pending.get(user)! - 1;
      pending.set(user, left);
      if (left === 0) ready.push(user);
    }
  }
  if (order.length !== byName.size) throw new ModelFileError(file, 'model_config has a cycle between layers');
  return order;
}

interface Weight {
  name: string;
  shape: number[];
  size: number;
  data: Float32Array;
}

/**
 * Reads a layer's weights in its `weight_names` order, the order Keras assigns them in. The group's
 * own listing is alphabetical (beta before gamma), so it must not be used.
 */
function readWeights(file: string, root: H5Group, layer: string, count: number, values: boolean): Weight[] {
  const group = root.get(layer);
  if (!isGroup(group)) throw new ModelFileError(file, `has no weights for layer ${layer} (model_weights/${layer} is missing)`);
  const names = stringList(group.attrs['weight_names']?.value);
  if (names === undefined) throw new ModelFileError(file, `model_weights/${layer} has an unreadable weight_names attribute`);
  if (names.length !== count) {
    throw new ModelFileError(file, `layer ${layer} stores ${names.length} weights, its config needs ${count}`);
  }
  return names.map((name) => {
    const dataset = group.get(name);
    if (!isDataset(dataset)) throw new ModelFileError(file, `weight ${layer}/${name} is missing`);
    const shape = dataset.shape ?? [];
    const meta = dataset.metadata;
    // HDF5 type class 1 is floating point; Keras stores float32 (float64 is accepted and narrowed).
    if (meta.type !== 1 || (meta.size !== 4 && meta.size !== 8)) {
      throw new ModelFileError(file, `weight ${layer}/${name} has type ${String(dataset.dtype)}, expected float32`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array = new Float32Array(0);
    if (values) {
      const value = dataset.value;
      data = value instanceof Float32Array ? value : value instanceof Float64Array ? Float32Array.from(value) : data;
      if (data.length !== size) throw new ModelFileError(file, `weight ${layer}/${name} holds ${data.length} values, its shape says ${size}`);
    }
    return { name, shape, size, data };
  });
}

function checkShape(file: string, layer: string, weight: Weight, expected: (number | undefined)[]): void {
  const ok = weight.shape.length === expected.length && weight.shape.every((d, i) => d === expected[i]);
  if (!ok) {
    throw new ModelFileError(file, `weight ${layer}/${weight.name} has shape (${weight.shape.join(', ')}), the config needs (${expected.join(', ')})`);
  }
}

/** h5wasm returns a string list, a lone string, or an empty numeric array / `{}` when the list is empty. */
function stringList(value: unknown): string[] | undefined {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
  if (ArrayBuffer.isView(value)) return value.byteLength === 0 ? [] : undefined;
  if (typeof value === 'object' && Object.keys(value).length === 0) return [];
  return undefined;
}

function isGroup(entity: unknown): entity is H5Group {
  return entity !== null && typeof entity === 'object' && (entity as { type?: string }).type === 'Group';
}

function isDataset(entity: unknown): entity is H5Dataset {
  return entity !== null && typeof entity === 'object' && (entity as { type?: string }).type === 'Dataset';
}
