import type { LoadedModel, OutputTrack, PredictBatch, StagedNetwork, StageTensor } from '../adapter/contract.js';
import { InvalidArgumentError } from '../errors.js';
import { sumConeCost } from './cones.js';

const KINDS = new Set(['class-probability', 'site-probability', 'usage']);
const SITES = new Set([undefined, 'acceptor', 'donor', 'any', 'none']);

/**
 * Checks a loaded model's declared tracks (non-empty, unique names, known kinds), so a broken
 * adapter fails at load with its name rather than as misaligned columns later.
 */
export function checkTracks(tracks: readonly OutputTrack[] | undefined, source: string): readonly OutputTrack[] {
  const problems: string[] = [];
  if (!Array.isArray(tracks) || tracks.length === 0) {
    problems.push('declares no tracks');
  } else {
    const names = new Set<string>();
    for (const t of tracks) {
      if (!t || typeof t.name !== 'string' || !/^[A-Za-z][\w.-]*$/.test(t.name)) problems.push(`track name ${JSON.stringify(t?.name)} is not a plain word`);
      else if (names.has(t.name)) problems.push(`track "${t.name}" is declared twice`);
      else names.add(t.name);
      if (!KINDS.has(t?.kind)) problems.push(`track "${t?.name}" has kind ${JSON.stringify(t?.kind)}, not class-probability, site-probability or usage`);
      if (!SITES.has(t?.site)) problems.push(`track "${t?.name}" has site ${JSON.stringify(t?.site)}, not acceptor, donor, any or none`);
    }
  }
  if (problems.length > 0) {
    throw new InvalidArgumentError(`${source}: the loaded model's tracks are invalid: ${problems.join('; ')}`, {
      hint: 'fix the adapter (run the conformance kit, @metaspliceai/core/testing)',
    });
  }
  return tracks!;
}

/**
 * Combines members that predict the same tracks into one model whose output is the float32 mean
 * of theirs (as the reference tools average their ensembles), with the members' tracks. Members
 * run one after another: each runtime already uses every core. When every member is staged alike,
 * so is the ensemble. One member is passed through as it is (a joint model averaging itself).
 */
export function createEnsemble(members: readonly LoadedModel[]): LoadedModel {
  if (members.length === 0) throw new InvalidArgumentError('an ensemble needs at least one member');
  const context = members[0].context;
  const mismatch = members.find((m) => m.context !== context);
  if (mismatch) {
    throw new InvalidArgumentError(`ensemble members disagree on context: ${context} and ${mismatch.context}`);
  }
  const tracks = checkTracks(members[0].tracks, 'ensemble member 1');
  const names = tracks.map((t) => t.name).join(',');
  members.forEach((m, i) => {
    const other = checkTracks(m.tracks, `ensemble member ${i + 1}`);
    if (other.map((t) => t.name).join(',') !== names) {
      throw new InvalidArgumentError(`ensemble members disagree on tracks: ${names} and ${other.map((t) => t.name).join(',')}`);
    }
  });
  if (members.length === 1) return members[0];
  const combine = meanOf(members.length);
  let staged: StagedNetwork | null | undefined;
  return {
    context,
    tracks,
    backend: members[0].backend,
    device: members[0].device,
    async predict(batch: PredictBatch): Promise<Float32Array> {
      const outputs: Float32Array[] = [];
      for (const member of members) outputs.push(await member.predict(batch));
      return combine(outputs);
    },
    // Built on first use: a member's stages may cost graph building.
    get stages(): StagedNetwork | undefined {
      staged ??= stackStages(members, combine) ?? null;
      return staged ?? undefined;
    },
    async dispose(): Promise<void> {
      await Promise.all(members.map((m) => m.dispose()));
    },
  };
}

/** The float32 mean of member outputs, summed in member order. */
function meanOf(count: number): (outputs: readonly Float32Array[]) => Float32Array {
  const scale = 1 / count;
  return (outputs) => {
    const mean = outputs[0].slice();
    for (const out of outputs.slice(1)) for (let i = 0; i < out.length; i++) mean[i] += out[i];
    for (let i = 0; i < mean.length; i++) mean[i] *= scale;
    return mean;
  };
}

/**
 * The members' stages side by side: the ensemble's state is the members' states stacked on the
 * channel axis, each member runs on its own channels, and the last stage averages. Undefined unless
 * every member has stages with the same reaches.
 */
function stackStages(members: readonly LoadedModel[], combine: (outputs: readonly Float32Array[]) => Float32Array): StagedNetwork | undefined {
  const nets = members.map((m) => m.stages);
  if (nets.some((n) => n === undefined)) return undefined;
  const [first, ...rest] = nets as StagedNetwork[];
  if (rest.some((n) => n.reach.length !== first.reach.length || n.reach.some((r, i) => r !== first.reach[i]))) return undefined;
  const all = nets as StagedNetwork[];
  const widths = (boundary: number) => all.map((n) => n.channels[boundary]);
  return {
    reach: first.reach,
    channels: first.channels.map((_, k) => widths(k).reduce((a, b) => a + b, 0)),
    ...(all.every((n) => n.coneCost) && {
      coneCost: (dist: number) => sumConeCost(all.map((n) => n.coneCost!(dist))),
    }),
    async runFirst(batch) {
      const parts: StageTensor[] = [];
      for (const n of all) parts.push(await n.runFirst(batch));
      return concatChannels(parts);
    },
    async runMiddle(stage, state) {
      const inputs = splitChannels(state, widths(stage - 1));
      const parts: StageTensor[] = [];
      for (let m = 0; m < all.length; m++) parts.push(await all[m].runMiddle(stage, inputs[m]));
      return concatChannels(parts);
    },
    async runLast(state) {
      const inputs = splitChannels(state, widths(first.reach.length - 2));
      const outputs: Float32Array[] = [];
      for (let m = 0; m < all.length; m++) outputs.push(await all[m].runLast(inputs[m]));
      return combine(outputs);
    },
  };
}

/** Stacks tensors of equal batch and length on the channel axis. */
function concatChannels(parts: readonly StageTensor[]): StageTensor {
  if (parts.length === 1) return parts[0];
  const { batch, length } = parts[0];
  const channels = parts.reduce((sum, p) => sum + p.channels, 0);
  const data = new Float32Array(batch * channels * length);
  for (let b = 0; b < batch; b++) {
    let at = b * channels * length;
    for (const p of parts) {
      const size = p.channels * length;
      data.set(p.data.subarray(b * size, (b + 1) * size), at);
      at += size;
    }
  }
  return { data, batch, channels, length };
}

/** The inverse of `concatChannels`. */
function splitChannels(state: StageTensor, widths: readonly number[]): StageTensor[] {
  const total = widths.reduce((a, b) => a + b, 0);
  if (total !== state.channels) throw new InvalidArgumentError(`a state of ${state.channels} channels cannot split into ${widths.join(' + ')}`);
  if (widths.length === 1) return [state];
  const { batch, length } = state;
  let offset = 0;
  return widths.map((channels) => {
    const data = new Float32Array(batch * channels * length);
    for (let b = 0; b < batch; b++) {
      const from = (b * total + offset) * length;
      data.set(state.data.subarray(from, from + channels * length), b * channels * length);
    }
    offset += channels;
    return { data, batch, channels, length };
  });
}
