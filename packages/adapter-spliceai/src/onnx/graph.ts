import { type GraphValue, kerasConv1dKernelToOik, SpliceGraphBuilder } from '@metaspliceai/onnx';
import { ModelFileError } from '@metaspliceai/core';
import type { KerasActivation, KerasGraph } from '../keras/index.js';

/**
 * Emits a Keras SpliceAI graph as ONNX, layer for layer: Conv1D (kernels turned from Keras'
 * (k, in, out) to (out, in, k)), BatchNormalization with the file's epsilon, Activation, Add and
 * Cropping1D. Softmax acts on the channel axis, as Keras' does on its last axis.
 */
export function kerasGraphToOnnx(graph: KerasGraph): Uint8Array {
  const { builder, output } = recordKerasNetwork(graph);
  return builder.build(output);
}

/** The network recorded in a builder, for `build` (whole graph) and `buildStaged` (stages). */
export function recordKerasNetwork(graph: KerasGraph): { builder: SpliceGraphBuilder; output: GraphValue } {
  const g = new SpliceGraphBuilder({ name: graph.file.split(/[\\/]/).pop(), metadata: { family: 'spliceai', context: String(graph.context) } });
  const values = new Map<string, GraphValue>();
  const activate = (x: GraphValue, activation: KerasActivation): GraphValue =>
    activation === 'relu' ? g.relu(x) : activation === 'softmax' ? g.softmax(x) : x;
  for (const layer of graph.layers) {
    const inputs = layer.inputs.map((name) => values.get(name)!);
    let out: GraphValue;
    switch (layer.kind) {
      case 'InputLayer':
        out = g.input();
        break;
      case 'Conv1D': {
        const c = layer.conv!;
        const [k, inC, outC] = c.kernelShape;
        const conv = g.conv1d(inputs[0], {
          weight: kerasConv1dKernelToOik(c.kernel, k, inC, outC),
          shape: [outC, inC, k],
          bias: c.bias,
          dilation: c.dilation,
          padding: c.padding,
        });
        out = activate(conv, c.activation);
        break;
      }
      case 'BatchNormalization':
        out = g.batchNorm(inputs[0], layer.batchNorm!);
        break;
      case 'Activation':
        out = activate(inputs[0], layer.activation!);
        break;
      case 'Add':
        out = inputs.slice(1).reduce((sum, x) => g.add(sum, x), inputs[0]);
        break;
      case 'Cropping1D':
        out = g.crop(inputs[0], layer.crop![0], layer.crop![1]);
        break;
      default:
        throw new ModelFileError(graph.file, `layer ${layer.name} of kind ${String(layer.kind)} cannot be emitted as ONNX`);
    }
    values.set(layer.name, out);
  }
  return { builder: g, output: values.get(graph.output)! };
}
