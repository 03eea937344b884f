import { ModelFileError } from '@metaspliceai/core';
import type { TensorInfo } from '@metaspliceai/torch';
import { PANGOLIN_HEADS } from './tracks.js';

/**
 * Pangolin's residual blocks (upstream `pangolin/model.py`): kernel sizes W and dilations AR. The
 * dilations are not stored in the weights; the block count and kernel sizes identify the table.
 */
export const PANGOLIN_KERNELS: readonly number[] = [...Array(8).fill(11), 21, 21, 21, 21, 41, 41, 41, 41];
export const PANGOLIN_DILATIONS: readonly number[] = [1, 1, 1, 1, 4, 4, 4, 4, 10, 10, 10, 10, 25, 25, 25, 25];
/** A 1x1 convolution into the skip sum follows every this many blocks (and the last one). */
export const PANGOLIN_SKIP_EVERY = 4;

/** One residual block: (BN, ReLU, dilated conv) twice, plus identity. */
export interface PangolinBlock {
  prefix: string;
  kernel: number;
  dilation: number;
  /** `convs.<k>` to add into the skip sum after this block, if any. */
  skip?: string;
}

/** What the state dict says the network is. */
export interface PangolinArchitecture {
  /** Total flank, 2 * sum(AR * (W - 1)): 10000 for the published weights. */
  context: number;
  channels: number;
  blocks: PangolinBlock[];
  /** Stored values, BatchNorm running statistics included (as Keras counts them; no step counters). */
  parameterCount: number;
}

const STEP_COUNTER = /\.num_batches_tracked$/;
const FLOAT_DTYPES: ReadonlySet<string> = new Set(['float32', 'float64', 'float16']);

/**
 * Reads the architecture from tensor names and shapes, checking that every tensor the network needs
 * is there with the right shape and that nothing unexpected is, so a file that passes inspection
 * also loads.
 */
export function readPangolinArchitecture(file: string, tensors: readonly TensorInfo[]): PangolinArchitecture {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const fail = (message: string): never => {
    throw new ModelFileError(file, message, { hint: 'expected a Pangolin state_dict (final.<replicate>.<head>.3.v2 from tkzeng/Pangolin)' });
  };
  const shapeOf = (name: string): number[] => byName.get(name)?.shape ?? fail(`tensor ${name} is missing`);
  const expectShape = (name: string, shape: number[]) => {
    const actual = shapeOf(name);
    if (actual.join(',') !== shape.join(',')) fail(`tensor ${name} has shape [${actual}], expected [${shape}]`);
  };
  const known = new Set<string>();
  const conv = (prefix: string, shape: number[]) => {
    expectShape(`${prefix}.weight`, shape);
    expectShape(`${prefix}.bias`, [shape[0]]);
    known.add(`${prefix}.weight`).add(`${prefix}.bias`);
  };

  const first = shapeOf('conv1.weight');
  if (first.length !== 3 || first[1] !== 4 || first[2] !== 1) fail(`tensor conv1.weight has shape [${first}], expected [C,4,1]`);
  const c = first[0];
  conv('conv1', [c, 4, 1]);
  conv('skip', [c, c, 1]);

  const indices = [...new Set(tensors.filter((t) => t.name.startsWith('resblocks.')).map((t) => Number(t.name.split('.')[1])))].sort((a, b) => a - b);
  if (indices.some((i, k) => i !== k)) fail(`resblocks are not numbered 0..${indices.length - 1}`);
  const kernels = indices.map((i) => shapeOf(`resblocks.${i}.conv1.weight`)[2]);
  if (kernels.join(',') !== PANGOLIN_KERNELS.join(',')) {
    fail(`${kernels.length} residual blocks with kernel sizes [${kernels}]; Pangolin has 16 with [${PANGOLIN_KERNELS}]`);
  }
  let skips = 0;
  const blocks: PangolinBlock[] = indices.map((i) => {
    const prefix = `resblocks.${i}`;
    for (const name of ['conv1', 'conv2']) conv(`${prefix}.${name}`, [c, c, kernels[i]]);
    for (const bn of ['bn1', 'bn2']) {
      for (const p of ['weight', 'bias', 'running_mean', 'running_var']) {
        expectShape(`${prefix}.${bn}.${p}`, [c]);
        known.add(`${prefix}.${bn}.${p}`);
      }
      known.add(`${prefix}.${bn}.num_batches_tracked`);
    }
    const block: PangolinBlock = { prefix, kernel: kernels[i], dilation: PANGOLIN_DILATIONS[i] };
    if ((i + 1) % PANGOLIN_SKIP_EVERY === 0 || i + 1 === indices.length) {
      block.skip = `convs.${skips++}`;
      conv(block.skip, [c, c, 1]);
    }
    return block;
  });
  for (const head of PANGOLIN_HEADS) conv(head.layer, [head.outputs, c, 1]);

  const unexpected = tensors.find((t) => !known.has(t.name));
  if (unexpected) fail(`unexpected tensor ${unexpected.name} [${unexpected.shape}]`);
  const notFloat = tensors.find((t) => !STEP_COUNTER.test(t.name) && !FLOAT_DTYPES.has(t.dtype));
  if (notFloat) fail(`tensor ${notFloat.name} has dtype ${notFloat.dtype}, expected a floating-point type (float32, float64 or float16)`);
  const context = 2 * blocks.reduce((sum, b) => sum + b.dilation * (b.kernel - 1), 0);
  const parameterCount = tensors.filter((t) => !STEP_COUNTER.test(t.name)).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  return { context, channels: c, blocks, parameterCount };
}
