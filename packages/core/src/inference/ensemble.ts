import { type LoadedModel, OUTPUT_CLASSES, type OutputClass, type PredictBatch } from '../adapter/contract.js';
import { InvalidArgumentError } from '../errors.js';

/**
 * Combines members into one model whose output is the float32 mean of theirs (as the reference
 * tools average their ensembles), in core's class order. Members run one after another: each
 * runtime already uses every core.
 */
export function createEnsemble(members: readonly LoadedModel[], nativeClasses: readonly OutputClass[] = OUTPUT_CLASSES): LoadedModel {
  if (members.length === 0) throw new InvalidArgumentError('an ensemble needs at least one member');
  const context = members[0].context;
  const mismatch = members.find((m) => m.context !== context);
  if (mismatch) {
    throw new InvalidArgumentError(`ensemble members disagree on context: ${context} and ${mismatch.context}`);
  }
  const order = OUTPUT_CLASSES.map((c) => nativeClasses.indexOf(c));
  if (order.some((i) => i < 0)) {
    throw new InvalidArgumentError(`output classes ${nativeClasses.join(',')} do not cover ${OUTPUT_CLASSES.join(',')}`);
  }
  const reorder = order.some((i, k) => i !== k);
  const scale = 1 / members.length;
  return {
    context,
    backend: members[0].backend,
    device: members[0].device,
    async predict(batch: PredictBatch): Promise<Float32Array> {
      let sum: Float32Array | undefined;
      for (const member of members) {
        const out = await member.predict(batch);
        if (!sum) sum = out.slice();
        else for (let i = 0; i < out.length; i++) sum[i] += out[i];
      }
      const mean = sum!;
      if (members.length > 1) for (let i = 0; i < mean.length; i++) mean[i] *= scale;
      if (!reorder) return mean;
      const ordered = new Float32Array(mean.length);
      for (let p = 0; p < mean.length; p += 3) {
        ordered[p] = mean[p + order[0]];
        ordered[p + 1] = mean[p + order[1]];
        ordered[p + 2] = mean[p + order[2]];
      }
      return ordered;
    },
    async dispose(): Promise<void> {
      await Promise.all(members.map((m) => m.dispose()));
    },
  };
}
