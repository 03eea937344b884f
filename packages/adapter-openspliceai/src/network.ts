import { SpliceGraphBuilder, type GraphValue } from '@metaspliceai/onnx';
import type { OpenSpliceAIArchitecture } from './architecture.js';
import { type StateDictTensor, toFloat32 } from '@metaspliceai/torch';

/** PyTorch BatchNorm1d's default epsilon, which OpenSpliceAI keeps. */
export const OPENSPLICEAI_BN_EPSILON = 1e-5;
/** OpenSpliceAI's activation: LeakyReLU with slope 0.1. */
export const OPENSPLICEAI_LEAKY_SLOPE = 0.1;

/**
 * Emits the OpenSpliceAI network as an ONNX graph: initial 1x1 conv, a skip path summed after it
 * and after every group of residual units, units of (BN, LeakyReLU, dilated conv) x2 plus identity,
 * the skip path cropped by flank/2 each side, a 1x1 conv to 3 classes and softmax.
 */
export function buildOpenSpliceAIGraph(arch: OpenSpliceAIArchitecture, dict: ReadonlyMap<string, StateDictTensor>, name: string): Uint8Array {
  const { builder, output } = recordOpenSpliceAINetwork(arch, dict, name);
  return builder.build(output);
}

/** The network recorded in a builder, for `build` (whole graph) and `buildStaged` (stages). */
export function recordOpenSpliceAINetwork(
  arch: OpenSpliceAIArchitecture,
  dict: ReadonlyMap<string, StateDictTensor>,
  name: string,
): { builder: SpliceGraphBuilder; output: GraphValue } {
  const w = (key: string) => toFloat32(dict.get(key)!);
  const c = arch.channels;
  const g = new SpliceGraphBuilder({ name, metadata: { family: 'openspliceai', flank: String(arch.flank) } });
  const conv = (x: GraphValue, prefix: string, out: number, inC: number, k: number, dilation = 1) =>
    g.conv1d(x, { weight: w(`${prefix}.weight`), bias: w(`${prefix}.bias`), shape: [out, inC, k], dilation, padding: 'same' });
  const bn = (x: GraphValue, prefix: string) =>
    g.batchNorm(x, {
      gamma: w(`${prefix}.weight`),
      beta: w(`${prefix}.bias`),
      mean: w(`${prefix}.running_mean`),
      variance: w(`${prefix}.running_var`),
      epsilon: OPENSPLICEAI_BN_EPSILON,
    });

  let h = conv(g.input(), 'initial_conv', c, 4, 1);
  let skip = conv(h, 'initial_skip.conv', c, c, 1);
  for (const step of arch.steps) {
    if (step.kind === 'skip') {
      skip = g.add(skip, conv(h, `${step.prefix}.conv`, c, c, 1));
      continue;
    }
    let t = g.leakyRelu(bn(h, `${step.prefix}.batchnorm1`), OPENSPLICEAI_LEAKY_SLOPE);
    t = conv(t, `${step.prefix}.conv1`, c, c, step.kernel, step.dilation);
    t = g.leakyRelu(bn(t, `${step.prefix}.batchnorm2`), OPENSPLICEAI_LEAKY_SLOPE);
    t = conv(t, `${step.prefix}.conv2`, c, c, step.kernel, step.dilation);
    h = g.add(h, t);
  }
  const cropped = g.crop(skip, arch.flank / 2, arch.flank / 2);
  return { builder: g, output: g.softmax(conv(cropped, 'final_conv', 3, c, 1)) };
}
