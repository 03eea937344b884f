import { InvalidArgumentError, type LoadedModel, type OutputTrack, type StagedNetwork } from '@metaspliceai/core';

/**
 * A model seen through some of its tracks, by name, in the order asked: `predict` and the last
 * stage return `(batch, positions, names.length)`. A name the model lacks reads as 0 when
 * `optional` lists it (a rule that never reads it), else it is an InvalidArgumentError naming the
 * model's tracks. A model whose tracks already are `names`, in order, is returned as it is.
 */
export function viewTracks(model: LoadedModel, names: readonly string[], optional: readonly string[] = []): LoadedModel {
  const own = model.tracks.map((t) => t.name);
  const columns = names.map((n) => own.indexOf(n));
  const missing = names.filter((n, i) => columns[i] < 0 && !optional.includes(n));
  if (missing.length > 0) {
    throw new InvalidArgumentError(`the model has no track ${missing.join(', ')}; its tracks are ${own.join(', ')}`);
  }
  if (own.length === names.length && columns.every((c, i) => c === i)) return model;
  const width = own.length;
  const select = (rows: Float32Array): Float32Array => {
    const positions = rows.length / width;
    const out = new Float32Array(positions * names.length);
    for (let p = 0; p < positions; p++) {
      for (let k = 0; k < columns.length; k++) if (columns[k] >= 0) out[p * names.length + k] = rows[p * width + columns[k]];
    }
    return out;
  };
  const tracks: OutputTrack[] = names.map((n, k) => (columns[k] >= 0 ? model.tracks[columns[k]] : { name: n, kind: 'class-probability', site: 'none' }));
  let staged: StagedNetwork | null | undefined;
  return {
    context: model.context,
    backend: model.backend,
    device: model.device,
    tracks,
    predict: async (batch) => select(await model.predict(batch)),
    get stages(): StagedNetwork | undefined {
      if (staged === undefined) {
        const inner = model.stages;
        staged = inner ? { ...bind(inner), runLast: async (state) => select(await inner.runLast(state)) } : null;
      }
      return staged ?? undefined;
    },
    dispose: () => model.dispose(),
  };
}

/** A staged network's members bound to it, so they survive being spread into another object. */
function bind(net: StagedNetwork): StagedNetwork {
  return {
    reach: net.reach,
    channels: net.channels,
    runFirst: (batch) => net.runFirst(batch),
    runMiddle: (stage, state) => net.runMiddle(stage, state),
    runLast: (state) => net.runLast(state),
  };
}
