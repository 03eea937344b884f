import { type GraphValue, type RecordedNetwork, SpliceGraphBuilder } from '@metaspliceai/onnx';
import { type StateDictTensor, toFloat32 } from '@metaspliceai/torch';
import type { PangolinArchitecture } from './architecture.js';
import type { PangolinHead } from './tracks.js';

/** PyTorch BatchNorm1d's default epsilon, which Pangolin keeps. */
export const PANGOLIN_BN_EPSILON = 1e-5;

/**
 * Records one Pangolin file as the network of one head: a 1x1 conv, a 1x1 skip of it, 16 residual
 * blocks of (BN, ReLU, dilated conv) x2 plus identity with a 1x1 conv into the skip sum after every
 * 4th, the skip sum cropped by context/2 each side, then only `head`'s 1x1 conv, its softmax (2
 * outputs) or sigmoid (1), and its track's channel. The other 7 heads of the file are never built:
 * upstream reads one channel per file (`scripts/custom_usage.py`).
 */
export function recordPangolinNetwork(
  arch: PangolinArchitecture,
  dict: ReadonlyMap<string, StateDictTensor>,
  head: PangolinHead,
  name: string,
): RecordedNetwork {
  const w = (key: string) => toFloat32(dict.get(key)!);
  const c = arch.channels;
  const g = new SpliceGraphBuilder({ name, metadata: { family: 'pangolin', context: String(arch.context), track: head.track.name } });
  const conv = (x: GraphValue, prefix: string, out: number, inC: number, k: number, dilation = 1) =>
    g.conv1d(x, { weight: w(`${prefix}.weight`), bias: w(`${prefix}.bias`), shape: [out, inC, k], dilation, padding: 'same' });
  const bnRelu = (x: GraphValue, prefix: string) =>
    g.relu(
      g.batchNorm(x, {
        gamma: w(`${prefix}.weight`),
        beta: w(`${prefix}.bias`),
        mean: w(`${prefix}.running_mean`),
        variance: w(`${prefix}.running_var`),
        epsilon: PANGOLIN_BN_EPSILON,
      }),
    );

  let h = conv(g.input(), 'conv1', c, 4, 1);
  let skip = conv(h, 'skip', c, c, 1);
  for (const block of arch.blocks) {
    let t = conv(bnRelu(h, `${block.prefix}.bn1`), `${block.prefix}.conv1`, c, c, block.kernel, block.dilation);
    t = conv(bnRelu(t, `${block.prefix}.bn2`), `${block.prefix}.conv2`, c, c, block.kernel, block.dilation);
    h = g.add(h, t);
    if (block.skip) skip = g.add(skip, conv(h, block.skip, c, c, 1));
  }
  const cropped = g.crop(skip, arch.context / 2, arch.context / 2);
  const logits = conv(cropped, head.layer, head.outputs, c, 1);
  const probabilities = head.outputs === 2 ? g.softmax(logits) : g.sigmoid(logits);
  return { builder: g, output: g.channels(probabilities, head.channel) };
}
