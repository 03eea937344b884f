import type { LoadedModel } from '../adapter/contract.js';
import type { ModelInfo } from '../metadata/schema.js';
import { encodeSequence } from '../sequence/encoding.js';
import { predictCodes } from '../inference/tiling.js';

/**
 * A short canonical input: an exon end, a GT donor, an intron with a branch point and polypyrimidine
 * tract, an AG acceptor and the next exon. Small enough to run in a blink at any context.
 */
export const CANONICAL_HEALTH_SEQUENCE = 'CAGGCTGCTGGAGAAGGTGAGTCCTGGGCTTCTCAACCTGTGTTTACTGACTTCTCCTTTCCCTTTCTCTTCCTCCAGGTTCTCAGCAAGCTGATGCTG';

export interface HealthCheck {
  name: 'load' | 'shape' | 'range' | 'normalised' | 'golden';
  ok: boolean;
  message: string;
}

/** Runs a loaded model on `sequence` and checks what any sane splice-site model must satisfy. */
export async function checkModelHealth(model: LoadedModel, golden?: ModelInfo['golden']): Promise<HealthCheck[]> {
  const sequence = golden?.sequence ?? CANONICAL_HEALTH_SEQUENCE;
  const out = await predictCodes(model, encodeSequence(sequence));
  const checks: HealthCheck[] = [];
  const width = model.tracks.length;
  const expected = sequence.length * width;
  checks.push({
    name: 'shape',
    ok: out.length === expected,
    message: `${out.length / width} positions x ${width} tracks for a ${sequence.length}-nt input`,
  });
  // Every track kind is a probability or a usage fraction; class probabilities sum to 1.
  const classes = model.tracks.flatMap((t, c) => (t.kind === 'class-probability' ? [c] : []));
  let worstRange = 0;
  let worstSum = 0;
  for (let p = 0; p < out.length; p += width) {
    for (let c = 0; c < width; c++) {
      const v = out[p + c];
      const off = Number.isFinite(v) ? Math.max(-v, v - 1, 0) : Infinity;
      worstRange = Math.max(worstRange, off);
    }
    if (classes.length > 1) worstSum = Math.max(worstSum, Math.abs(classes.reduce((sum, c) => sum + out[p + c], 0) - 1));
  }
  checks.push({ name: 'range', ok: worstRange === 0, message: worstRange === 0 ? 'every value is in [0, 1]' : `a value is ${worstRange} outside [0, 1]` });
  if (classes.length > 1)
    checks.push({ name: 'normalised', ok: worstSum < 1e-4, message: `each position's class probabilities sum to 1 within ${worstSum.toExponential(2)}` });
  const names = model.tracks.map((t) => t.name).join(', ');
  const goldenTracks = golden ? (golden.tracks ?? ['neither', 'acceptor', 'donor']).join(', ') : '';
  if (golden && goldenTracks !== names) {
    checks.push({
      name: 'golden',
      ok: false,
      message: `the golden outputs in model_info.json are of the tracks ${goldenTracks}; the model has ${names} (run models index --golden again)`,
    });
  } else if (golden) {
    let worst = 0;
    golden.outputs.forEach((row, i) => {
      if (row.length !== width) worst = Infinity;
      for (let c = 0; c < row.length; c++) worst = Math.max(worst, Math.abs(row[c] - out[i * width + c]));
    });
    const ok = golden.outputs.length === sequence.length && worst <= golden.tolerance;
    checks.push({
      name: 'golden',
      ok,
      message: ok
        ? `matches the golden outputs in model_info.json within ${worst.toExponential(2)}`
        : `differs from the golden outputs in model_info.json by ${worst.toExponential(2)} (tolerance ${golden.tolerance})`,
    });
  }
  return checks;
}
