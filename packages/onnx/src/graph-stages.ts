/**
 * Cutting a planned network into consecutive stage graphs, for recomputing only what a local change
 * to the input changes (core's `StagedNetwork`). Where to cut is chosen by a cost model of the
 * convolution work a one-base change costs; each stage is then lowered like a whole graph.
 */
import { type ConeCost, sumConeCost } from '@metaspliceai/core';
import type { ConvLayout } from './graph-builder.js';
import {
  type Emitted,
  emitConcatState,
  emitCrop,
  emitGroupMeans,
  emitLayers,
  emitSplit,
  emitUnfuse,
  encodeGraph,
  inputDeclaration,
  nameOf,
  STATE_INPUT,
  STATE_OUTPUT,
  valueDeclaration,
} from './graph-lower.js';
import {
  type EnsembleOptions,
  type GraphPlan,
  type PlannedMember,
  type TrimPlan,
  checkMembers,
  flattenGroups,
  fusedTrunk,
  liveAfter,
  memberPrefix,
  planGraph,
  planTrim,
  planWholeTrim,
} from './graph-plan.js';

/** Options of `buildStaged` (and, for ensembles, how members are lowered). */
export interface StagingOptions extends EnsembleOptions {
  /**
   * At most this many stages (default 6); fewer when another cut saves little. Each cut costs a
   * copy of the state and a session call per batch, so the cuts must save more than that: for
   * SpliceAI-10k at distance 50 the cost model counts 1.75 M taps per substitution with 3 stages
   * (cuts after 200 and 1000 positions), 1.39 M with 6 (40, 200, 600, 1000, 2000), 1.29 M with a cut
   * after every residual unit and 1.17 M for the minimal cone. 200 SNVs with the SpliceAI 10000
   * ensemble in batches of 4: 9.3 variants/s with 3 stages, 9.9 with 6 (same machine, back to back).
   */
  maxStages?: number;
  /** The distance scored around a change, which the cut choice optimises for (default 50). */
  dist?: number;
}

/** A network as consecutive stage graphs; see `SpliceGraphBuilder.buildStaged`. */
export interface StagedGraphs {
  /**
   * One ONNX model per stage. The first takes the graph input; each later one takes `state`
   * `(N, C, 1, L)` and all but the last give `next_state` `(N, C', 1, L - 2 * reach)`; the last
   * gives the graph output.
   */
  models: Uint8Array[];
  /** Positions each stage drops on each side of its input; they sum to the context / 2. */
  reach: number[];
  /** Channels of the state after each stage but the last. */
  channels: number[];
  /** The tensor layout of every stage (that of the builder). */
  layout: ConvLayout;
  /** Names of the first stage's input and the last stage's output. */
  inputName: string;
  outputName: string;
  /** What rescoring one base change at a distance costs with these cuts, all members together. */
  coneCost: (dist: number) => ConeCost;
}

interface Cut {
  /** The last layer of the stage the cut ends. */
  id: number;
  /** Positions lost on each side at the cut. */
  extent: number;
}

/**
 * Greedy choice of up to `maxStages - 1` cuts where at most two values cross, by `coneMacs`. A cut
 * is kept only if it saves at least 3%.
 */
function chooseCuts(plan: GraphPlan, trim: TrimPlan, half: number, maxStages: number, dist: number): Cut[] {
  const candidates: Cut[] = [];
  for (let id = 1; id < plan.outId; id++) {
    if (!plan.needed.has(id)) continue;
    const live = liveAfter(plan, id);
    if (live.length === 0 || live.length > 2 || live.includes(0) || live.some((v) => plan.foldedInto.has(v))) continue;
    const sides = live.map((v) => trim.get(v)!);
    const left = Math.max(...sides.map((s) => s[0]));
    if (left !== Math.max(...sides.map((s) => s[1])) || left <= 0 || left >= half) continue;
    candidates.push({ id, extent: left });
  }
  const lost = lostSinceInput(plan, trim);
  const cost = (cuts: readonly Cut[]) => coneMacs(plan, lost, half, dist, cuts);
  let chosen: Cut[] = [];
  let best = cost(chosen);
  while (chosen.length < maxStages - 1) {
    let pick: { cuts: Cut[]; cost: number } | undefined;
    for (const c of candidates) {
      if (chosen.includes(c)) continue;
      const cuts = [...chosen, c].sort((a, b) => a.id - b.id);
      const value = cost(cuts);
      if (!pick || value < pick.cost) pick = { cuts, cost: value };
    }
    if (!pick || pick.cost > best * 0.97) break;
    chosen = pick.cuts;
    best = pick.cost;
  }
  return chosen;
}

/**
 * The cost model: multiply-adds of one member's convolutions to rescore `2 * dist + 1` outputs
 * around a one-base change when the network is cut at `cuts`. A layer in stage s is computed on the
 * part of stage s's output both changed and needed, widened by the reach left in the stage (`lost`:
 * see `lostSinceInput`).
 */
function coneMacs(plan: GraphPlan, lost: ReadonlyMap<number, number>, half: number, dist: number, cuts: readonly Cut[]): number {
  let total = 0;
  for (const id of plan.needed) {
    const layer = plan.graph.layers[id];
    if (layer.kind !== 'conv') continue;
    const end = cuts.find((c) => c.id >= id);
    const extent = end ? end.extent : half;
    const changed = Math.min(2 * dist + 1 + 2 * (half - extent), 1 + 2 * extent);
    // A conv needed only where the outputs are (a skip's) runs at the width its stage passes on.
    const width = changed + 2 * (extent - Math.min(lost.get(id)!, extent));
    const [out, inC, k] = layer.shape;
    total += width * k * inC * out;
  }
  return total;
}

/** Positions each needed value has lost at either end since the network input (`trim` restarts at a crop). */
function lostSinceInput(plan: GraphPlan, trim: TrimPlan): Map<number, number> {
  const cropped = new Map<number, number>([[0, 0]]);
  const lost = new Map<number, number>([[0, 0]]);
  for (const id of [...plan.needed].sort((a, b) => a - b)) {
    const layer = plan.graph.layers[id];
    if (layer.kind === 'input') continue;
    const inputs = layer.kind === 'add' ? layer.inputs : [layer.input];
    const before = Math.max(...inputs.map((v) => cropped.get(v)!));
    cropped.set(id, layer.kind === 'crop' ? before + Math.max(layer.left, layer.right) : before);
    lost.set(id, cropped.get(id)! + Math.max(...trim.get(id)!));
  }
  return lost;
}

/**
 * `coneMacs` with the chosen cuts, and with a cut after every convolution: the minimal cone, where
 * each layer is computed only where it both differs from the reference and is needed.
 */
function memberConeCost(plan: GraphPlan, trim: TrimPlan, half: number, dist: number, cuts: readonly Cut[]): ConeCost {
  const lost = lostSinceInput(plan, trim);
  const everyConv = [...plan.needed]
    .filter((id) => plan.graph.layers[id].kind === 'conv')
    .sort((a, b) => a - b)
    .map((id) => ({ id, extent: lost.get(id)! }));
  return { staged: coneMacs(plan, lost, half, dist, cuts), minimal: coneMacs(plan, lost, half, dist, everyConv) };
}

/**
 * The group means of `groups` (see `lowerMeans`) as stage graphs: each stage runs every member's
 * part (a fused trunk's once for all, `fusedTrunk`), the state is the crossing values with the
 * members side by side on the channel axis, and the last stage averages each group. Undefined
 * unless every member can be trimmed and cuts into stages of the same reaches.
 */
export function stageMeans(groups: readonly (readonly PlannedMember[])[], options: StagingOptions = {}): StagedGraphs | undefined {
  const members = flattenGroups(groups);
  const { graph: lead, outId } = checkMembers(members);
  const output = lead.values[outId];
  if (!lead.options.trimToNeeded || output.context % 2 !== 0) return undefined;
  const half = output.context / 2;
  const cutPlans: { plan: GraphPlan; cuts: number[] }[] = [];
  const costs: ((dist: number) => ConeCost)[] = [];
  for (const [k, { graph, outId: out }] of members.entries()) {
    const plan = planGraph(graph, out, memberPrefix(members.length, k));
    const whole = planWholeTrim(plan);
    if (!whole) return undefined;
    const cuts = chooseCuts(plan, whole, half, options.maxStages ?? 6, options.dist ?? 50);
    if (cuts.length === 0 || cuts.length !== (cutPlans[0]?.cuts.length ?? cuts.length)) return undefined;
    cutPlans.push({ plan, cuts: cuts.map((c) => c.id) });
    costs.push((dist) => memberConeCost(plan, whole, half, dist, cuts));
  }

  const { convLayout: layout, inputName, outputName } = lead.options;
  const coneCost = (dist: number) => sumConeCost(costs.map((cost) => cost(dist)));
  const result: StagedGraphs = { models: [], reach: [], channels: [], layout, inputName, outputName, coneCost };
  const plans = cutPlans.map(({ plan }) => plan);
  const trunk = fusedTrunk(plans, options.fuseMembers ?? true);
  // Values after layer `id` are the fused trunk's (one tensor for all members) until its heads begin.
  const fusedAfter = (id: number) => trunk !== undefined && id < trunk.end;
  const at = cutPlans.map(() => ({ from: 1, live: [0] as readonly number[], reached: 0 }));
  const stageCount = cutPlans[0].cuts.length + 1;
  for (let stage = 0; stage < stageCount; stage++) {
    const last = stage === stageCount - 1;
    const emitted: Emitted = { nodes: [], initializers: [] };
    if (stage > 0) {
      const entering = fusedAfter(at[0].from - 1)
        ? at[0].live.map((v) => ({ name: nameOf(trunk!.plan, v), channels: lead.values[v].channels * plans.length }))
        : cutPlans.flatMap(({ plan }, k) => at[k].live.map((v) => ({ name: nameOf(plan, v), channels: plan.graph.values[v].channels })));
      emitSplit(emitted, entering);
    }
    const outputs: string[] = [];
    const parts: string[] = [];
    const reaches = new Set<number>();
    let channels = 0;
    for (const [k, { plan, cuts }] of cutPlans.entries()) {
      const { graph } = plan;
      const { from, live, reached } = at[k];
      const to = last ? plan.outId : cuts[stage];
      const trim = planTrim(plan, from, to, new Map(live.map((v) => [v, [reached, reached] as const])));
      if (!trim) return undefined;
      let own = from;
      if (trunk && from < trunk.end) {
        // The trunk's part of this stage runs once for all members (members' trims are the same).
        if (k === 0) {
          emitLayers(trunk.plan, trim, from, Math.min(to, trunk.end - 1), emitted, plans);
          if (to >= trunk.end) emitUnfuse(emitted, trunk, plans, liveAfter(trunk.plan, trunk.end - 1));
        }
        own = trunk.end;
      }
      if (own <= to) emitLayers(plan, trim, own, to, emitted);
      if (last) {
        outputs.push(nameOf(plan, plan.outId));
        reaches.add(half - reached);
        continue;
      }
      const next = liveAfter(plan, to);
      const sides = next.map((v) => trim.get(v)!);
      const extent = Math.max(...sides.flat());
      // Each crossing value is cropped to the common extent; the state must stay centred.
      if (Math.max(...sides.map((side) => side[0])) !== Math.max(...sides.map((side) => side[1]))) return undefined;
      const fused = fusedAfter(to);
      if (!fused || k === 0) {
        const named = fused ? trunk!.plan : plan;
        const width = fused ? plans.length : 1;
        next.forEach((v, j) => {
          const name = `${named.prefix}state_part${j}`;
          emitCrop(graph, emitted, name, nameOf(named, v), graph.values[v].channels * width, extent - trim.get(v)![0], extent - trim.get(v)![1]);
          parts.push(name);
        });
      }
      channels += next.reduce((sum, v) => sum + graph.values[v].channels, 0);
      reaches.add(extent - reached);
      at[k] = { from: to + 1, live: next, reached: extent };
    }
    if (reaches.size !== 1) return undefined;
    const input = stage === 0 ? inputDeclaration(lead) : valueDeclaration(lead, STATE_INPUT, result.channels[stage - 1], 'length');
    result.reach.push([...reaches][0]);
    if (last) {
      emitGroupMeans(emitted, outputs, groups, outputName);
      result.models.push(
        encodeGraph(lead, emitted, output.context, input, valueDeclaration(lead, outputName, groups.length * output.channels, 'out_length'), members.length),
      );
      break;
    }
    emitConcatState(emitted, parts);
    result.models.push(encodeGraph(lead, emitted, output.context, input, valueDeclaration(lead, STATE_OUTPUT, channels, 'out_length'), members.length));
    result.channels.push(channels);
  }
  return result;
}
