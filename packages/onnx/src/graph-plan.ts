/**
 * Planning a recorded graph before it is lowered: which layers an output needs, which batch norms
 * fold into the convolution they follow, where each value is last read, and how many positions each
 * value loses at its ends when convolutions run unpadded ("trimming").
 */
import { InvalidArgumentError } from '@metaspliceai/core';
import type { Layer, RecordedGraph } from './graph-builder.js';

/** Value id -> positions lost at its left and right ends beyond the 'same'-padded graph. */
export type TrimPlan = Map<number, readonly [number, number]>;

/** What one network's output needs; handed from planning to staging and lowering. */
export interface GraphPlan {
  graph: RecordedGraph;
  outId: number;
  /** Prepended to the names of this network's values (not the shared input): `m<k>_` in an ensemble. */
  prefix: string;
  needed: ReadonlySet<number>;
  /** Conv id -> the batch norm folded into it. */
  foldedInto: ReadonlyMap<number, number>;
  /** Value id -> the last needed layer reading it. */
  lastUse: ReadonlyMap<number, number>;
}

/** The layers a layer reads. */
export function inputsOf(layer: Layer): readonly number[] {
  switch (layer.kind) {
    case 'input':
      return [];
    case 'add':
      return layer.inputs;
    default:
      return [layer.input];
  }
}

/** Which layers `outId` needs, which batch norms fold into their convolution, and last uses. */
export function planGraph(graph: RecordedGraph, outId: number, prefix = ''): GraphPlan {
  if (outId === 0) throw new InvalidArgumentError('build: the output must be computed from the input, not the input itself');
  const { layers } = graph;
  const needed = new Set<number>();
  const stack = [outId];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (needed.has(id)) continue;
    needed.add(id);
    stack.push(...inputsOf(layers[id]));
  }
  const consumers = new Map<number, number>();
  const lastUse = new Map<number, number>();
  for (const id of needed) {
    for (const i of inputsOf(layers[id])) {
      consumers.set(i, (consumers.get(i) ?? 0) + 1);
      lastUse.set(i, Math.max(lastUse.get(i) ?? 0, id));
    }
  }
  // A batch norm folds into a convolution whose output nothing else reads.
  const foldedInto = new Map<number, number>();
  if (graph.options.foldBatchNorm) {
    for (const id of needed) {
      const layer = layers[id];
      if (layer.kind !== 'batchNorm') continue;
      const src = layers[layer.input];
      if (src.kind === 'conv' && consumers.get(layer.input) === 1 && layer.input !== outId) foldedInto.set(layer.input, id);
    }
  }
  return { graph, outId, needed, foldedInto, lastUse, prefix };
}

/** Values computed at or before layer `id` that a later needed layer reads. */
export function liveAfter(plan: GraphPlan, id: number): number[] {
  const live: number[] = [];
  for (const v of plan.needed) if (v <= id && (plan.lastUse.get(v) ?? 0) > id) live.push(v);
  return live.sort((a, b) => a - b);
}

/**
 * Positions each value of layers `from..to` has lost at its left and right ends beyond the
 * 'same'-padded graph when convolutions run unpadded, starting from `initial` (the values feeding
 * those layers). Undefined when trimming cannot keep the output the same (a crop smaller than
 * what was trimmed before it, or the graph output still trimmed).
 */
export function planTrim(plan: GraphPlan, from: number, to: number, initial: TrimPlan): TrimPlan | undefined {
  const trimmed = initial;
  for (let id = from; id <= to; id++) {
    if (!plan.needed.has(id)) continue;
    const layer = plan.graph.layers[id];
    const of = (input: number) => trimmed.get(input)!;
    switch (layer.kind) {
      case 'conv':
        trimmed.set(id, [of(layer.input)[0] + layer.pads[0], of(layer.input)[1] + layer.pads[1]]);
        break;
      case 'add': {
        const sides = layer.inputs.map(of);
        trimmed.set(id, [Math.max(...sides.map((t) => t[0])), Math.max(...sides.map((t) => t[1]))]);
        break;
      }
      case 'crop': {
        const have = of(layer.input);
        if (have[0] > layer.left || have[1] > layer.right) return undefined;
        trimmed.set(id, [0, 0]);
        break;
      }
      case 'input':
        break;
      default:
        trimmed.set(id, of(layer.input));
    }
  }
  if (to !== plan.outId) return trimmed;
  const end = trimmed.get(plan.outId)!;
  return end[0] === 0 && end[1] === 0 ? trimmed : undefined;
}

/** The whole network trimmed from its input, or undefined when it cannot be (or trimming is off). */
export function planWholeTrim(plan: GraphPlan): TrimPlan | undefined {
  if (!plan.graph.options.trimToNeeded) return undefined;
  return planTrim(plan, 1, plan.outId, new Map([[0, [0, 0]]]));
}

/** A member network: its recorded graph and the id of the value it outputs. */
export interface PlannedMember {
  graph: RecordedGraph;
  outId: number;
}

/** The members of every group, in order; no group may be empty. */
export function flattenGroups<T>(groups: readonly (readonly T[])[]): T[] {
  if (groups.length === 0 || groups.some((g) => g.length === 0)) throw new InvalidArgumentError('buildMeans: every group needs at least one network');
  return groups.flat();
}

/**
 * The first member, once all agree on what a shared input and a mean output need (layout, input,
 * output, trimming, output channels and context).
 */
export function checkMembers(members: readonly PlannedMember[]): PlannedMember {
  if (members.length === 0) throw new InvalidArgumentError('buildMean: no networks given');
  const [first] = members;
  const key = ({ graph: { options: o, values }, outId }: PlannedMember) =>
    JSON.stringify([o.convLayout, o.inputChannels, o.inputName, o.outputName, o.trimToNeeded, values[outId].channels, values[outId].context]);
  const odd = members.find((m) => key(m) !== key(first));
  if (odd) throw new InvalidArgumentError(`buildMean: networks differ in layout, input, output or context (${key(first)} vs ${key(odd)})`);
  return first;
}

/** `m<k>_` for member k of an ensemble; nothing for a single network. */
export function memberPrefix(count: number, k: number): string {
  return count > 1 ? `m${k}_` : '';
}

/** Channels per block of onnxruntime's blocked (NCHWc) layout with AVX2; AVX-512's 16 also divide the trunks' 32. */
const BLOCK_CHANNELS = 8;

/** How the members of an ensemble (`buildMean`, `buildMeans` and their staged forms) are lowered. */
export interface EnsembleOptions {
  /**
   * Run the members' shared trunk as one grouped convolution per layer (`fusedTrunk`; the same
   * numbers). Default: in stage graphs yes, in whole graphs no. Cones are narrow and often run one at
   * a time, where it puts every thread to work; whole graphs run a tile per thread already, and there
   * fused tensors keep all members' intermediates alive at once (predict, 200 kb, OpenSpliceAI MANE
   * 10000: 740 MB against 384 MB, 9.70 against 9.83 s). `ensembleOptionsFor(device)` says what a
   * device wants.
   */
  fuseMembers?: boolean;
}

/** The trunk the members of an ensemble share: `plan` names its values, `end` is the first layer of the heads. */
export interface FusedTrunk {
  plan: GraphPlan;
  end: number;
}

/**
 * Members that are the same network up to their heads (same layers, shapes, folds and activations;
 * only the weights differ) run that trunk as one node per layer over all members' channels side by
 * side, each convolution grouped by member. onnxruntime splits a convolution over batch x groups, so
 * a batch of one used a single thread per member before; and one node replaces one per member. The
 * heads stay per member: from the first layer that mixes channels (softmax, a track pick) or whose
 * channels do not fill the blocked layout (the 3-channel output convolution). Undefined for a single
 * network, when asked not to (`fuseMembers: false`), or when the members' trunks differ.
 */
export function fusedTrunk(plans: readonly GraphPlan[], fuse: boolean): FusedTrunk | undefined {
  const [lead] = plans;
  if (plans.length < 2 || !fuse) return undefined;
  const { layers } = lead.graph;
  const isHead = (layer: Layer) =>
    layer.kind === 'softmax' || layer.kind === 'sigmoid' || layer.kind === 'channels' || (layer.kind === 'conv' && layer.shape[0] % BLOCK_CHANNELS !== 0);
  let end = 1;
  while (end <= lead.outId && !(lead.needed.has(end) && isHead(layers[end]))) end++;
  if (end > lead.outId || ![...lead.needed].some((id) => id < end && layers[id].kind === 'conv')) return undefined;
  const shape = (plan: GraphPlan, id: number): string => {
    const layer = plan.graph.layers[id];
    if (!layer) return 'missing';
    const structure = Object.entries(layer).map(([key, value]) =>
      key === 'weight' || key === 'bias'
        ? [key, value !== undefined]
        : key === 'params'
          ? [key, (value as { gamma: Float32Array }).gamma.length]
          : [key, value],
    );
    return JSON.stringify([structure, plan.needed.has(id), plan.foldedInto.get(id) ?? null, plan.graph.values[id].channels]);
  };
  for (let id = 1; id < end; id++) {
    const own = shape(lead, id);
    if (plans.some((p) => shape(p, id) !== own)) return undefined;
  }
  return { plan: { ...lead, prefix: 'all_' }, end };
}
