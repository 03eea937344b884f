import { ModelFileError } from '@metaspliceai/core';
import type { TensorInfo } from '@metaspliceai/torch';

/**
 * OpenSpliceAI's network table (its predict.py): kernel sizes W and dilations AR of the residual
 * units per flank. Dilations are not stored in the weights, so the flank is identified by the
 * number of units and their kernel sizes.
 */
export const OPENSPLICEAI_ARCHITECTURES: Readonly<Record<number, { kernels: readonly number[]; dilations: readonly number[] }>> = {
  80: { kernels: [11, 11, 11, 11], dilations: [1, 1, 1, 1] },
  400: { kernels: [...Array(8).fill(11)], dilations: [1, 1, 1, 1, 4, 4, 4, 4] },
  2000: { kernels: [...Array(8).fill(11), 21, 21, 21, 21], dilations: [1, 1, 1, 1, 4, 4, 4, 4, 10, 10, 10, 10] },
  10000: {
    kernels: [...Array(8).fill(11), 21, 21, 21, 21, 41, 41, 41, 41],
    dilations: [1, 1, 1, 1, 4, 4, 4, 4, 10, 10, 10, 10, 25, 25, 25, 25],
  },
};

/** One step of the network, in state-dict order: a residual unit or a 1x1 skip convolution. */
export type OpenSpliceAIStep = { kind: 'residual'; prefix: string; kernel: number; dilation: number } | { kind: 'skip'; prefix: string };

/** What the state dict says the network is. */
export interface OpenSpliceAIArchitecture {
  flank: number;
  channels: number;
  steps: OpenSpliceAIStep[];
  residualUnits: number;
  /** Stored weight values, BatchNorm running statistics included (as Keras counts them). */
  parameterCount: number;
}

const STEP_COUNTER = /\.num_batches_tracked$/;
const FLOAT_DTYPES: ReadonlySet<string> = new Set(['float32', 'float64', 'float16']);

/**
 * Reads the architecture from tensor names and shapes, checking every tensor a network of that
 * flank needs is there with the right shape, and that nothing unexpected is.
 */
export function readArchitecture(file: string, tensors: readonly TensorInfo[]): OpenSpliceAIArchitecture {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const fail = (message: string): never => {
    throw new ModelFileError(file, message, { hint: 'expected an OpenSpliceAI state_dict (model_<F>nt_rs<seed>.pt) as saved by openspliceai train' });
  };
  const shapeOf = (name: string): number[] => {
    const t = byName.get(name);
    if (!t) fail(`tensor ${name} is missing`);
    return t!.shape;
  };
  const expectShape = (name: string, shape: number[]) => {
    const actual = shapeOf(name);
    if (actual.join(',') !== shape.join(',')) fail(`tensor ${name} has shape [${actual}], expected [${shape}]`);
  };

  const first = shapeOf('initial_conv.weight');
  if (first.length !== 3 || first[1] !== 4 || first[2] !== 1) fail(`tensor initial_conv.weight has shape [${first}], expected [C,4,1]`);
  const channels = first[0];
  expectShape('initial_conv.bias', [channels]);
  expectShape('initial_skip.conv.weight', [channels, channels, 1]);
  expectShape('initial_skip.conv.bias', [channels]);
  expectShape('final_conv.weight', [3, channels, 1]);
  expectShape('final_conv.bias', [3]);

  const indices = [...new Set(tensors.filter((t) => t.name.startsWith('residual_units.')).map((t) => Number(t.name.split('.')[1])))].sort((a, b) => a - b);
  if (indices.some((i, k) => i !== k)) fail(`residual_units are not numbered 0..${indices.length - 1}`);
  const kernels: number[] = [];
  const raw: ({ kind: 'residual'; prefix: string; kernel: number } | { kind: 'skip'; prefix: string })[] = [];
  for (const i of indices) {
    const prefix = `residual_units.${i}`;
    if (byName.has(`${prefix}.batchnorm1.weight`)) {
      const w = shapeOf(`${prefix}.conv1.weight`);
      const kernel = w[2];
      for (const conv of ['conv1', 'conv2']) {
        expectShape(`${prefix}.${conv}.weight`, [channels, channels, kernel]);
        expectShape(`${prefix}.${conv}.bias`, [channels]);
      }
      for (const bn of ['batchnorm1', 'batchnorm2']) {
        for (const p of ['weight', 'bias', 'running_mean', 'running_var']) expectShape(`${prefix}.${bn}.${p}`, [channels]);
      }
      kernels.push(kernel);
      raw.push({ kind: 'residual', prefix, kernel });
    } else {
      expectShape(`${prefix}.conv.weight`, [channels, channels, 1]);
      expectShape(`${prefix}.conv.bias`, [channels]);
      raw.push({ kind: 'skip', prefix });
    }
  }
  const match = Object.entries(OPENSPLICEAI_ARCHITECTURES).find(([, a]) => a.kernels.join(',') === kernels.join(','));
  if (!match) {
    fail(`${kernels.length} residual units with kernel sizes [${kernels}] match no OpenSpliceAI flank (80, 400, 2000 or 10000)`);
  }
  const [flankText, table] = match!;
  let unit = 0;
  const steps: OpenSpliceAIStep[] = raw.map((s) => (s.kind === 'skip' ? s : { ...s, dilation: table.dilations[unit++] }));
  const known = new Set<string>();
  for (const n of ['initial_conv.weight', 'initial_conv.bias', 'initial_skip.conv.weight', 'initial_skip.conv.bias', 'final_conv.weight', 'final_conv.bias'])
    known.add(n);
  for (const s of steps) {
    const names =
      s.kind === 'skip'
        ? ['conv.weight', 'conv.bias']
        : [
            'conv1.weight',
            'conv1.bias',
            'conv2.weight',
            'conv2.bias',
            ...['batchnorm1', 'batchnorm2'].flatMap((b) => ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((p) => `${b}.${p}`)),
          ];
    for (const n of names) known.add(`${s.prefix}.${n}`);
  }
  const unexpected = tensors.find((t) => !known.has(t.name));
  if (unexpected) fail(`unexpected tensor ${unexpected.name} [${unexpected.shape}]`);
  // Weights become float32 ONNX initializers; an integer or bool weight is a broken file, and must
  // fail here (inspection, validation) rather than later at load.
  const notFloat = tensors.find((t) => !STEP_COUNTER.test(t.name) && !FLOAT_DTYPES.has(t.dtype));
  if (notFloat) fail(`tensor ${notFloat.name} has dtype ${notFloat.dtype}, expected a floating-point type (float32, float64 or float16)`);
  const parameterCount = tensors.filter((t) => !STEP_COUNTER.test(t.name)).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  return { flank: Number(flankText), channels, steps, residualUnits: kernels.length, parameterCount };
}
