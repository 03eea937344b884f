/**
 * Lowering a planned graph to ONNX nodes and serializing it. The speed-relevant forms live here:
 * convolutions as height-1 `Conv2d` (`conv2d` layout), batch norms folded into the convolution
 * they follow, the other batch norms and equal crops as depthwise convolutions, so that
 * onnxruntime keeps the residual trunk in its blocked (NCHWc) layout and fuses activations.
 */
import { type OnnxNode, type OnnxTensor, type OnnxValueInfo, OnnxDataType, encodeModel, floatTensor, int64Tensor } from './onnx-proto.js';
import type { Layer, RecordedGraph } from './graph-builder.js';
import {
  type EnsembleOptions,
  type FusedTrunk,
  type GraphPlan,
  type PlannedMember,
  type TrimPlan,
  checkMembers,
  flattenGroups,
  fusedTrunk,
  liveAfter,
  memberPrefix,
  planGraph,
  planWholeTrim,
} from './graph-plan.js';
import { batchNormAffine, foldBatchNormIntoConv } from './weights.js';

/** The ONNX IR version and default-domain opset emitted; both load in onnxruntime >= 1.14. */
export const IR_VERSION = 8;
export const OPSET_VERSION = 17;
const INT64_MAX = (1n << 63n) - 1n;

/** Input and output names of stage graphs. */
export const STATE_INPUT = 'state';
export const STATE_OUTPUT = 'next_state';

/** Nodes and weights emitted so far for one ONNX graph. */
export interface Emitted {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
}

/** The ONNX name of value `id` of a planned network. */
export function nameOf(plan: GraphPlan, id: number): string {
  const { options, layers } = plan.graph;
  if (id === 0) return options.inputName;
  return plan.prefix + (id === plan.outId ? options.outputName : `${layers[id].kind}_${id}`);
}

/**
 * Drops `left` and `right` positions of `input` (`channels` wide). Equal crops are a depthwise `Conv`
 * of taps `[0, 1, 0]` dilated by the crop, an exact copy that keeps onnxruntime's blocked layout (a
 * `Slice` makes it reorder the tensor out of it and back); unequal ones are a `Slice`.
 */
export function emitCrop(graph: RecordedGraph, emitted: Emitted, name: string, input: string, channels: number, left: number, right: number): void {
  const is2d = graph.options.convLayout === 'conv2d';
  if (left === 0 && right === 0) {
    emitted.nodes.push({ opType: 'Identity', name, inputs: [input], outputs: [name] });
    return;
  }
  if (left === right) {
    // out[i] = 0 * x[i] + 1 * x[i + left] + 0 * x[i + 2 * left]: an exact copy for finite x.
    const taps = new Float32Array(channels * 3);
    for (let c = 0; c < channels; c++) taps[c * 3 + 1] = 1;
    emitted.initializers.push(floatTensor(`${name}_taps`, is2d ? [channels, 1, 1, 3] : [channels, 1, 3], taps));
    emitted.nodes.push({
      opType: 'Conv',
      name,
      inputs: [input, `${name}_taps`],
      outputs: [name],
      attributes: [
        { name: 'kernel_shape', kind: 'ints', value: is2d ? [1, 3] : [3] },
        { name: 'dilations', kind: 'ints', value: is2d ? [1, left] : [left] },
        { name: 'pads', kind: 'ints', value: is2d ? [0, 0, 0, 0] : [0, 0] },
        { name: 'strides', kind: 'ints', value: is2d ? [1, 1] : [1] },
        { name: 'group', kind: 'int', value: channels },
      ],
    });
    return;
  }
  emitted.initializers.push(int64Tensor(`${name}_starts`, [1], [left]));
  emitted.initializers.push(int64Tensor(`${name}_ends`, [1], [right === 0 ? INT64_MAX : -right]));
  emitted.initializers.push(int64Tensor(`${name}_axes`, [1], [is2d ? 3 : 2]));
  emitted.nodes.push({ opType: 'Slice', name, inputs: [input, `${name}_starts`, `${name}_ends`, `${name}_axes`], outputs: [name] });
}

/**
 * Emits the needed layers with ids in `from..to` as ONNX nodes (trimmed when `trim` is given).
 * `members` (default: `plan` alone) are networks of the same layers whose weights run side by side,
 * one node per layer over all their channels (see `fusedTrunk`); `plan` names the values.
 */
export function emitLayers(
  plan: GraphPlan,
  trim: TrimPlan | undefined,
  from: number,
  to: number,
  emitted: Emitted,
  members: readonly GraphPlan[] = [plan],
): void {
  const { graph } = plan;
  const { layers, values } = graph;
  const is2d = graph.options.convLayout === 'conv2d';
  const { nodes, initializers } = emitted;
  const name = (id: number) => nameOf(plan, id);
  const width = members.length;
  /** The members' arrays of one layer, one after another. */
  const joined = (arrays: readonly Float32Array[]): Float32Array => {
    if (arrays.length === 1) return arrays[0];
    const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of arrays) out.set(a, (at += a.length) - a.length);
    return out;
  };

  const emitConv = (id: number, convId: number, bnId?: number): void => {
    const conv = layers[convId] as Extract<Layer, { kind: 'conv' }>;
    const [out, inC, k] = conv.shape;
    const parts = members.map((m) => {
      const own = m.graph.layers[convId] as Extract<Layer, { kind: 'conv' }>;
      const bn = bnId === undefined ? undefined : (m.graph.layers[bnId] as Extract<Layer, { kind: 'batchNorm' }>).params;
      return bn ? foldBatchNormIntoConv(own.weight, own.bias, out, bn) : { weight: own.weight, bias: own.bias };
    });
    const w = `${name(id)}_weight`;
    initializers.push(floatTensor(w, is2d ? [out * width, inC, 1, k] : [out * width, inC, k], joined(parts.map((p) => p.weight))));
    const inputs = [name(conv.input), w];
    const pads = trim ? [0, 0] : conv.pads;
    if (parts[0].bias) {
      initializers.push(floatTensor(`${name(id)}_bias`, [out * width], joined(parts.map((p) => p.bias!))));
      inputs.push(`${name(id)}_bias`);
    }
    nodes.push({
      opType: 'Conv',
      name: name(id),
      inputs,
      outputs: [name(id)],
      attributes: [
        { name: 'kernel_shape', kind: 'ints', value: is2d ? [1, k] : [k] },
        { name: 'dilations', kind: 'ints', value: is2d ? [1, conv.dilation] : [conv.dilation] },
        { name: 'pads', kind: 'ints', value: is2d ? [0, pads[0], 0, pads[1]] : [pads[0], pads[1]] },
        { name: 'strides', kind: 'ints', value: is2d ? [1, 1] : [1] },
        // Members side by side read the shared input whole, and each its own block of channels after it.
        { name: 'group', kind: 'int', value: conv.input === 0 ? 1 : width },
      ],
    });
  };

  for (let id = from; id <= to; id++) {
    if (!plan.needed.has(id) || plan.foldedInto.has(id)) continue;
    const layer = layers[id];
    const own = name(id);
    switch (layer.kind) {
      case 'input':
        break;
      case 'conv':
        emitConv(id, id);
        break;
      case 'batchNorm': {
        const src = layers[layer.input];
        if (src.kind === 'conv' && plan.foldedInto.get(layer.input) === id) {
          emitConv(id, layer.input, id); // the folded conv takes the batch norm's name
          break;
        }
        // A batch norm left after folding: a depthwise 1x1 Conv, into which onnxruntime fuses the activation that follows.
        const c = layer.params.gamma.length * width;
        const affine = members.map((m) => batchNormAffine((m.graph.layers[id] as Extract<Layer, { kind: 'batchNorm' }>).params));
        initializers.push(floatTensor(`${own}_scale`, is2d ? [c, 1, 1, 1] : [c, 1, 1], joined(affine.map((a) => Float32Array.from(a.scale)))));
        initializers.push(floatTensor(`${own}_shift`, [c], joined(affine.map((a) => Float32Array.from(a.shift)))));
        nodes.push({
          opType: 'Conv',
          name: own,
          inputs: [name(layer.input), `${own}_scale`, `${own}_shift`],
          outputs: [own],
          attributes: [
            { name: 'kernel_shape', kind: 'ints', value: is2d ? [1, 1] : [1] },
            { name: 'group', kind: 'int', value: c },
          ],
        });
        break;
      }
      case 'relu':
        nodes.push({ opType: 'Relu', name: own, inputs: [name(layer.input)], outputs: [own] });
        break;
      case 'leakyRelu':
        nodes.push({
          opType: 'LeakyRelu',
          name: own,
          inputs: [name(layer.input)],
          outputs: [own],
          attributes: [{ name: 'alpha', kind: 'float', value: layer.alpha }],
        });
        break;
      case 'add': {
        // Trimmed operands may be wider than the sum: crop each to the narrowest.
        const target = trim?.get(id) ?? [0, 0];
        const inputs = layer.inputs.map((input, k) => {
          const have = trim?.get(input) ?? [0, 0];
          const [left, right] = [target[0] - have[0], target[1] - have[1]];
          if (left === 0 && right === 0) return name(input);
          emitCrop(graph, emitted, `${own}_operand${k}`, name(input), values[input].channels * width, left, right);
          return `${own}_operand${k}`;
        });
        nodes.push({ opType: 'Add', name: own, inputs, outputs: [own] });
        break;
      }
      case 'crop': {
        const have = trim?.get(layer.input) ?? [0, 0];
        emitCrop(graph, emitted, own, name(layer.input), values[layer.input].channels * width, layer.left - have[0], layer.right - have[1]);
        break;
      }
      case 'softmax':
        nodes.push({ opType: 'Softmax', name: own, inputs: [name(layer.input)], outputs: [own], attributes: [{ name: 'axis', kind: 'int', value: 1 }] });
        break;
      case 'sigmoid':
        nodes.push({ opType: 'Sigmoid', name: own, inputs: [name(layer.input)], outputs: [own] });
        break;
      case 'channels':
        initializers.push(int64Tensor(`${own}_starts`, [1], [layer.start]));
        initializers.push(int64Tensor(`${own}_ends`, [1], [layer.start + layer.count]));
        initializers.push(int64Tensor(`${own}_axes`, [1], [1]));
        nodes.push({ opType: 'Slice', name: own, inputs: [name(layer.input), `${own}_starts`, `${own}_ends`, `${own}_axes`], outputs: [own] });
        break;
    }
  }
}

/** A `(batch, channels, [1,] length)` float value declaration in the graph's layout. */
export function valueDeclaration(graph: RecordedGraph, name: string, channels: number, length: string): OnnxValueInfo {
  const shape = graph.options.convLayout === 'conv2d' ? ['batch', channels, 1, length] : ['batch', channels, length];
  return { name, elemType: OnnxDataType.FLOAT, shape };
}

/** The graph input: the one-hot sequence. */
export function inputDeclaration(graph: RecordedGraph): OnnxValueInfo {
  return valueDeclaration(graph, graph.options.inputName, graph.options.inputChannels, 'length');
}

/** Serializes the emitted nodes as a `ModelProto`, with the builder's metadata and the context. */
export function encodeGraph(graph: RecordedGraph, emitted: Emitted, context: number, input: OnnxValueInfo, output: OnnxValueInfo, members: number): Uint8Array {
  const { options } = graph;
  return encodeModel({
    irVersion: IR_VERSION,
    opsetVersion: OPSET_VERSION,
    producerName: '@metaspliceai/onnx',
    producerVersion: '0.1.0',
    metadata: { ...options.metadata, context: String(context), layout: options.convLayout, ...(members > 1 ? { members: String(members) } : {}) },
    graph: { name: options.name, nodes: emitted.nodes, initializers: emitted.initializers, inputs: [input], outputs: [output] },
  });
}

/**
 * Names `name` the group means of `outputs` (the members' outputs, groups in order) side by side on
 * the channel axis; a single group is one `Mean` (none for a single output, which already has the
 * name). ONNX `Mean` sums its inputs in order, then divides.
 */
export function emitGroupMeans(emitted: Emitted, outputs: readonly string[], groups: readonly (readonly unknown[])[], name: string): void {
  if (groups.length === 1) {
    if (outputs.length > 1) emitted.nodes.push({ opType: 'Mean', name, inputs: [...outputs], outputs: [name] });
    return;
  }
  let next = 0;
  const means = groups.map((group, g) => {
    const mean = `${name}_group${g}`;
    emitted.nodes.push({ opType: 'Mean', name: mean, inputs: outputs.slice(next, next + group.length), outputs: [mean] });
    next += group.length;
    return mean;
  });
  emitted.nodes.push({ opType: 'Concat', name, inputs: means, outputs: [name], attributes: [{ name: 'axis', kind: 'int', value: 1 }] });
}

/** Splits a stage's input state back into the values that crossed the cut. */
export function emitSplit(emitted: Emitted, values: readonly { name: string; channels: number }[]): void {
  const names = values.map((v) => v.name);
  if (values.length === 1) {
    emitted.nodes.push({ opType: 'Identity', name: names[0], inputs: [STATE_INPUT], outputs: names });
    return;
  }
  emitted.initializers.push(
    int64Tensor(
      'state_split',
      [values.length],
      values.map((v) => v.channels),
    ),
  );
  emitted.nodes.push({
    opType: 'Split',
    name: 'state_split',
    inputs: [STATE_INPUT, 'state_split'],
    outputs: names,
    attributes: [{ name: 'axis', kind: 'int', value: 1 }],
  });
}

/**
 * Hands the values of a fused trunk (`fusedTrunk`) that its heads read to each member: a `Split` of
 * each into the members' blocks of channels, under the members' own names. The shared input stays whole.
 */
export function emitUnfuse(emitted: Emitted, trunk: FusedTrunk, plans: readonly GraphPlan[], ids: readonly number[]): void {
  for (const id of ids) {
    if (id === 0) continue;
    const fused = nameOf(trunk.plan, id);
    const channels = trunk.plan.graph.values[id].channels;
    emitted.initializers.push(
      int64Tensor(
        `${fused}_members`,
        [plans.length],
        plans.map(() => channels),
      ),
    );
    emitted.nodes.push({
      opType: 'Split',
      name: `${fused}_members`,
      inputs: [fused, `${fused}_members`],
      outputs: plans.map((p) => nameOf(p, id)),
      attributes: [{ name: 'axis', kind: 'int', value: 1 }],
    });
  }
}

/** Concatenates a stage's crossing values into its `next_state` output. */
export function emitConcatState(emitted: Emitted, parts: readonly string[]): void {
  emitted.nodes.push({
    opType: 'Concat',
    name: STATE_OUTPUT,
    inputs: [...parts],
    outputs: [STATE_OUTPUT],
    attributes: [{ name: 'axis', kind: 'int', value: 1 }],
  });
}

/**
 * Lowers whole networks over one input to one graph whose output holds each group's float32 mean
 * in turn on the channel axis (`buildMeans`); one network gives its own output.
 */
export function lowerMeans(groups: readonly (readonly PlannedMember[])[], options: EnsembleOptions = {}): Uint8Array {
  const members = flattenGroups(groups);
  const { graph: lead, outId } = checkMembers(members);
  const emitted: Emitted = { nodes: [], initializers: [] };
  const plans = members.map(({ graph, outId: out }, k) => planGraph(graph, out, memberPrefix(members.length, k)));
  const trunk = fusedTrunk(plans, options.fuseMembers ?? false);
  if (trunk) {
    emitLayers(trunk.plan, planWholeTrim(trunk.plan), 1, trunk.end - 1, emitted, plans);
    emitUnfuse(emitted, trunk, plans, liveAfter(trunk.plan, trunk.end - 1));
  }
  const outputs = plans.map((plan) => {
    emitLayers(plan, planWholeTrim(plan), trunk?.end ?? 1, plan.outId, emitted);
    return nameOf(plan, plan.outId);
  });
  const { outputName } = lead.options;
  emitGroupMeans(emitted, outputs, groups, outputName);
  const output = lead.values[outId];
  const declared = valueDeclaration(lead, outputName, groups.length * output.channels, output.context === 0 ? 'length' : 'out_length');
  return encodeGraph(lead, emitted, output.context, inputDeclaration(lead), declared, members.length);
}
