import { batchNormAffine } from '@metaspliceai/onnx';
import type { KerasActivation, KerasGraph, KerasLayer } from '../keras/graph.js';

/**
 * An execution plan: the Keras graph with each `Conv1D -> BatchNormalization [-> relu]` chain
 * folded into one convolution. SpliceAI's residual units are BN -> relu -> conv -> BN -> relu ->
 * conv; folding the inner BN into the conv before it, and fusing the relu, removes two full passes
 * over the activations per unit (about a tenth of the run time on the wasm backend). The fold is
 * done in float64 and changes results only at float32 rounding level.
 */
export type PlanStep =
  | { kind: 'input'; name: string }
  | {
      kind: 'conv';
      name: string;
      input: string;
      kernel: Float32Array;
      kernelShape: [number, number, number];
      bias: Float32Array;
      dilation: number;
      padding: 'same' | 'valid';
      /** relu is fused into the convolution; softmax runs after it. */
      activation: KerasActivation;
    }
  | { kind: 'batchNorm'; name: string; input: string; layer: NonNullable<KerasLayer['batchNorm']> }
  | { kind: 'activation'; name: string; input: string; activation: KerasActivation }
  | { kind: 'add'; name: string; inputs: string[] }
  | { kind: 'crop'; name: string; input: string; crop: [number, number] };

/** Builds the plan; layers are visited in the graph's topological order, which the plan keeps. */
export function planGraph(graph: KerasGraph): PlanStep[] {
  const readers = new Map<string, KerasLayer[]>();
  for (const layer of graph.layers) {
    for (const input of layer.inputs) readers.set(input, [...(readers.get(input) ?? []), layer]);
  }
  // The sole reader of a layer's output, unless the output is also the model's output.
  const soleReader = (name: string): KerasLayer | undefined => {
    const users = readers.get(name) ?? [];
    return users.length === 1 && name !== graph.output ? users[0] : undefined;
  };

  const absorbed = new Set<string>();
  const steps: PlanStep[] = [];
  for (const layer of graph.layers) {
    if (absorbed.has(layer.name)) continue;
    switch (layer.kind) {
      case 'InputLayer':
        steps.push({ kind: 'input', name: layer.name });
        break;
      case 'Conv1D': {
        const conv = layer.conv!;
        const filters = conv.kernelShape[2];
        let kernel = conv.kernel;
        let bias = conv.bias ?? new Float32Array(filters);
        let activation = conv.activation;
        let name = layer.name;
        let next = activation === 'linear' ? soleReader(name) : undefined;
        if (next?.kind === 'BatchNormalization') {
          ({ kernel, bias } = foldBatchNorm(kernel, bias, filters, next.batchNorm!));
          absorbed.add(next.name);
          name = next.name;
          next = soleReader(name);
        }
        if (activation === 'linear' && next?.kind === 'Activation' && next.activation !== 'softmax') {
          activation = next.activation!;
          absorbed.add(next.name);
          name = next.name;
        }
        steps.push({
          kind: 'conv',
          name,
          input: layer.inputs[0]!,
          kernel,
          kernelShape: conv.kernelShape,
          bias,
          dilation: conv.dilation,
          padding: conv.padding,
          activation,
        });
        break;
      }
      case 'BatchNormalization':
        steps.push({ kind: 'batchNorm', name: layer.name, input: layer.inputs[0]!, layer: layer.batchNorm! });
        break;
      case 'Activation':
        steps.push({ kind: 'activation', name: layer.name, input: layer.inputs[0]!, activation: layer.activation! });
        break;
      case 'Add':
        steps.push({ kind: 'add', name: layer.name, inputs: layer.inputs });
        break;
      case 'Cropping1D':
        steps.push({ kind: 'crop', name: layer.name, input: layer.inputs[0]!, crop: layer.crop! });
        break;
    }
  }
  return steps;
}

/** The inputs a step reads. */
export function stepInputs(step: PlanStep): string[] {
  return step.kind === 'input' ? [] : step.kind === 'add' ? step.inputs : [step.input];
}

/**
 * BN(conv(x)) = conv'(x) with kernel' = kernel * s and bias' = bias * s + t, where s and t are the
 * batch norm's per-channel affine form (`batchNormAffine`, shared with the ONNX graph builder),
 * applied on the output channel (the last kernel axis).
 */
function foldBatchNorm(
  kernel: Float32Array,
  bias: Float32Array,
  filters: number,
  bn: NonNullable<KerasLayer['batchNorm']>,
): { kernel: Float32Array; bias: Float32Array } {
  const { scale, shift } = batchNormAffine(bn);
  const newBias = new Float32Array(filters);
  for (let o = 0; o < filters; o++) newBias[o] = bias[o]! * scale[o]! + shift[o]!;
  const newKernel = new Float32Array(kernel.length);
  for (let i = 0; i < kernel.length; i++) newKernel[i] = kernel[i]! * scale[i % filters]!;
  return { kernel: newKernel, bias: newBias };
}
