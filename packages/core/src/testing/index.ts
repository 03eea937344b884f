/**
 * The adapter conformance kit: the suite every base-model adapter, ours and third parties', runs to
 * prove it honours the v2 contract. Pass your test runner's `describe` and `test` (vitest, jest and
 * node:test all fit), a factory for your adapter, and fixtures: one real model file of your family.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BaseModelAdapter, type LoadedModel } from '../adapter/contract.js';
import { MetaSpliceAIError } from '../errors.js';
import { checkTracks } from '../inference/ensemble.js';
import { checkAdapter } from '../manager/registration.js';
import { trackFields } from '../metadata/model-info.js';
import { MODEL_INFO_SCHEMA_VERSION } from '../metadata/schema.js';

export { createMockAdapter, mockModel, mockScore, mockStagedModel } from './mock-adapter.js';
export { randomSequence } from './sequences.js';

type TestFn = (name: string, fn: () => Promise<void> | void, timeout?: number) => unknown;
type DescribeFn = (name: string, fn: () => void) => unknown;

export interface ConformanceFixtures {
  /** A real model file of the adapter's family. */
  modelFile: string;
  /** Its path relative to a models root, as discovery would see it (e.g. `spliceai/spliceai1.h5`). */
  relativePath: string;
  /** The context the weights encode. */
  context: number;
  /** The set name parsePath should give for relativePath. */
  setName?: string;
  /** Paths (relative) the adapter must not claim. Defaults to a few unrelated names. */
  unrelatedPaths?: string[];
  /** Backend to load with (default: the adapter's first). */
  backend?: string;
}

/** Groups that may be skipped, each only with a stated reason. */
export type ConformanceGroup = 'shape' | 'patterns' | 'inspection' | 'metadata' | 'load' | 'predict' | 'errors';

export interface ConformanceOptions {
  describe: DescribeFn;
  test: TestFn;
  createAdapter: () => BaseModelAdapter | Promise<BaseModelAdapter>;
  fixtures: ConformanceFixtures;
  skip?: Partial<Record<ConformanceGroup, string>>;
  /** Per-test timeout in ms for loading and predicting (default 120000). */
  timeout?: number;
}

class ConformanceFailure extends Error {}

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConformanceFailure(message);
}

async function expectTypedError(run: () => Promise<unknown>, what: string): Promise<MetaSpliceAIError> {
  try {
    await run();
  } catch (error) {
    expect(MetaSpliceAIError.isInstance(error), `${what} must throw a MetaSpliceAIError (with a code), got: ${String(error)}`);
    return error;
  }
  throw new ConformanceFailure(`${what} must throw, but it succeeded`);
}

/** Deterministic pseudo-random codes (0..4), so failures reproduce. */
function randomCodes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 24) % 5;
  }
  return out;
}

/**
 * Checks that `out` holds `positions` rows of the model's declared tracks: values in [0, 1] (every
 * kind is a probability or a usage fraction), and class probabilities summing to 1.
 */
function expectTrackRows(model: LoadedModel, out: Float32Array, positions: number, what: string): void {
  let tracks: LoadedModel['tracks'];
  try {
    tracks = checkTracks(model.tracks, what);
  } catch (error) {
    throw new ConformanceFailure((error as Error).message);
  }
  const n = tracks.length;
  expect(
    out.length === positions * n,
    `${what} gave ${out.length} values, expected ${positions} positions x ${n} declared tracks (${tracks.map((t) => t.name).join(', ')})`,
  );
  const classes = tracks.flatMap((t, i) => (t.kind === 'class-probability' ? [i] : []));
  for (let p = 0; p < positions; p++) {
    const row = out.subarray(p * n, (p + 1) * n);
    row.forEach((v, i) => expect(v >= 0 && v <= 1, `${what}, position ${p}: track ${tracks[i].name} is ${v}, outside [0, 1]`));
    if (classes.length > 1) {
      const sum = classes.reduce((s, i) => s + row[i], 0);
      expect(Math.abs(sum - 1) < 1e-4, `${what}, position ${p}: the class probabilities sum to ${sum}`);
    }
  }
}

/** Registers the conformance suite with the given runner. */
export function runAdapterConformance(options: ConformanceOptions): void {
  const { describe, test, fixtures } = options;
  const timeout = options.timeout ?? 120_000;
  const skip = options.skip ?? {};
  for (const [group, reason] of Object.entries(skip)) {
    if (typeof reason !== 'string' || reason.trim().length < 3) {
      throw new Error(`conformance: skipping "${group}" needs a stated reason`);
    }
  }
  let adapter: BaseModelAdapter | undefined;
  const get = async () => (adapter ??= await options.createAdapter());
  const group = (name: ConformanceGroup, body: () => void) => describe(skip[name] ? `${name} (skipped: ${skip[name]})` : name, skip[name] ? () => {} : body);

  describe('base-model adapter conformance (spec v2)', () => {
    group('shape', () => {
      test('passes the registration checks', async () => {
        checkAdapter(await get(), new Map());
      });
      test('declares how its sets combine and how it scores variants', async () => {
        const a = await get();
        expect(a.ensemble === 'mean' || a.ensemble === 'adapter', `ensemble is ${String(a.ensemble)}, expected 'mean' or 'adapter'`);
        expect(typeof a.scoring?.defaultRule === 'string' && a.scoring.defaultRule.length > 0, 'scoring.defaultRule must name a rule');
      });
      test('its context capabilities include the fixture context', async () => {
        const a = await get();
        expect(a.capabilities.contexts.includes(fixtures.context), `capabilities.contexts ${a.capabilities.contexts} lacks ${fixtures.context}`);
      });
    });

    group('patterns', () => {
      test('claims the fixture path', async () => {
        const a = await get();
        expect(
          a.filePatterns.some((p) => p.test(fixtures.relativePath)),
          `no file pattern matches ${fixtures.relativePath}`,
        );
      });
      test('ignores unrelated files', async () => {
        const a = await get();
        const unrelated = fixtures.unrelatedPaths ?? ['README.md', 'LICENSE', 'metadata/model_info.json', 'notes/results.csv'];
        for (const p of unrelated) expect(!a.filePatterns.some((re) => re.test(p)), `a file pattern claims unrelated ${p}`);
      });
      test('reads a set name and member id from the path', async () => {
        const hints = (await get()).parsePath(fixtures.relativePath);
        expect(typeof hints.setName === 'string' && hints.setName.length > 0, 'parsePath must give a set name');
        expect(typeof hints.memberId === 'string' && hints.memberId.length > 0, 'parsePath must give a member id');
        if (fixtures.setName) expect(hints.setName === fixtures.setName, `set name ${hints.setName}, expected ${fixtures.setName}`);
        if (hints.context !== undefined) expect(Number.isInteger(hints.context) && hints.context > 0, 'a context hint must be a positive integer');
      });
    });

    group('inspection', () => {
      test('reads context, architecture and parameter count from the weights', async () => {
        const info = await (await get()).inspect(fixtures.modelFile);
        expect(info.context === fixtures.context, `inspect gave context ${info.context}, expected ${fixtures.context}`);
        expect(Number.isInteger(info.parameterCount) && info.parameterCount > 0, 'parameterCount must be a positive integer');
        expect(typeof info.architecture === 'string' && info.architecture.length > 0, 'architecture must be described');
        expect(typeof info.format === 'string' && info.format.length > 0, 'format must be named');
      });
    });

    group('metadata', () => {
      test('its schema accepts a minimal model_info.json and rejects a broken one', async () => {
        const a = await get();
        const minimal = {
          schemaVersion: MODEL_INFO_SCHEMA_VERSION,
          adapter: a.id,
          setName: 'example',
          context: fixtures.context,
          ...trackFields(a),
          files: [{ path: 'model.bin', sha256: '0'.repeat(64), size: 1 }],
          ...a.describeSet?.({ name: 'example', context: fixtures.context, memberIds: ['m1'] }),
        };
        const ok = a.metadataSchema.safeParse(minimal);
        expect(ok.success, `schema rejects a minimal model_info: ${ok.success ? '' : ok.error.message}`);
        expect(
          !a.metadataSchema.safeParse({ ...minimal, files: [{ path: '../outside', sha256: 'x', size: -1 }] }).success,
          'schema accepts a file path outside the set',
        );
        expect(!a.metadataSchema.safeParse({ ...minimal, schemaVersion: 999 }).success, 'schema accepts an unknown schemaVersion');
      });
    });

    group('load', () => {
      test(
        'loads the fixture and disposes it',
        async () => {
          const a = await get();
          const model = await a.load({ file: fixtures.modelFile, context: fixtures.context, backend: fixtures.backend });
          expect(model.context === fixtures.context, `loaded context ${model.context}, expected ${fixtures.context}`);
          expect(model.device === 'cpu' || model.device === 'gpu', 'device must be cpu or gpu');
          expect(typeof model.backend === 'string' && model.backend.length > 0, 'backend must be named');
          await model.dispose();
        },
        timeout,
      );
    });

    group('predict', () => {
      test(
        'predicts probabilities of the right shape, batch-independent and deterministic',
        async () => {
          const a = await get();
          const model = await a.load({ file: fixtures.modelFile, context: fixtures.context, backend: fixtures.backend });
          try {
            const outputs = 37;
            const length = fixtures.context + outputs;
            const codes = randomCodes(2 * length, 7);
            const both = await model.predict({ codes, batch: 2, length });
            expectTrackRows(model, both, 2 * outputs, 'predict');
            const second = await model.predict({ codes: codes.subarray(length), batch: 1, length });
            let worst = 0;
            for (let i = 0; i < second.length; i++) worst = Math.max(worst, Math.abs(second[i] - both[outputs * model.tracks.length + i]));
            expect(worst < 1e-5, `a tile's output depends on its batch neighbour (differs by ${worst})`);
            const again = await model.predict({ codes, batch: 2, length });
            expect(
              again.every((v, i) => Math.abs(v - both[i]) < 1e-6),
              'predict is not deterministic',
            );
          } finally {
            await model.dispose();
          }
        },
        timeout,
      );
      test(
        'stages, when offered, chain to the numbers of predict',
        async () => {
          const a = await get();
          const model = await a.load({ file: fixtures.modelFile, context: fixtures.context, backend: fixtures.backend });
          try {
            const stages = model.stages;
            if (!stages) return; // optional
            const sum = stages.reach.reduce((x, y) => x + y, 0);
            expect(
              stages.reach.length >= 2 && stages.reach.every((r) => Number.isInteger(r) && r > 0),
              `reach must be 2+ positive integers, got ${stages.reach}`,
            );
            expect(sum * 2 === model.context, `the reaches sum to ${sum}, expected context/2 = ${model.context / 2}`);
            expect(stages.channels.length === stages.reach.length - 1, 'one channel count per boundary between stages');
            const length = model.context + 29;
            const codes = randomCodes(2 * length, 3);
            let state = await stages.runFirst({ codes, batch: 2, length });
            for (let k = 1; k < stages.reach.length - 1; k++) {
              expect(
                state.channels === stages.channels[k - 1] && state.length === length - 2 * stages.reach.slice(0, k).reduce((x, y) => x + y, 0),
                `stage ${k - 1} returned a state of the wrong shape`,
              );
              state = await stages.runMiddle(k, state);
            }
            const chained = await stages.runLast(state);
            const whole = await model.predict({ codes, batch: 2, length });
            expect(chained.length === whole.length, `the last stage gave ${chained.length} values, predict ${whole.length}`);
            let worst = 0;
            for (let i = 0; i < whole.length; i++) worst = Math.max(worst, Math.abs(chained[i] - whole[i]));
            expect(worst < 1e-5, `chained stages differ from predict by ${worst}`);
          } finally {
            await model.dispose();
          }
        },
        timeout,
      );
      test(
        'a joint ensemble, when offered, gives the mean of its members',
        async () => {
          const a = await get();
          if (!a.loadEnsemble) return; // optional
          const options = { context: fixtures.context, backend: fixtures.backend };
          // A set of the fixture twice: its mean is the fixture's own output.
          const joint = await a.loadEnsemble({ ...options, files: [fixtures.modelFile, fixtures.modelFile] });
          if (!joint) return; // declined for this backend
          if (a.ensemble === 'adapter') {
            // Its members are not interchangeable: only check the declared shape.
            try {
              const length = fixtures.context + 41;
              expectTrackRows(joint, await joint.predict({ codes: randomCodes(length, 5), batch: 1, length }), 41, 'the joint model');
            } finally {
              await joint.dispose();
            }
            return;
          }
          const member = await a.load({ ...options, file: fixtures.modelFile });
          try {
            expect(joint.context === fixtures.context, `the joint model has context ${joint.context}, expected ${fixtures.context}`);
            const length = fixtures.context + 41;
            const codes = randomCodes(2 * length, 5);
            const [mean, one] = [await joint.predict({ codes, batch: 2, length }), await member.predict({ codes, batch: 2, length })];
            expect(mean.length === one.length, `the joint model gave ${mean.length} values, a member ${one.length}`);
            let worst = 0;
            for (let i = 0; i < one.length; i++) worst = Math.max(worst, Math.abs(mean[i] - one[i]));
            expect(worst < 1e-5, `the mean of two copies of a member differs from it by ${worst}`);
          } finally {
            await Promise.all([joint.dispose(), member.dispose()]);
          }
        },
        timeout,
      );
    });

    group('errors', () => {
      test('inspect and load of a missing file throw typed errors', async () => {
        const a = await get();
        const missing = join(tmpdir(), `metaspliceai-conformance-missing-${process.pid}`, 'nothing-here');
        await expectTypedError(() => a.inspect(missing), 'inspect(missing file)');
        await expectTypedError(() => a.load({ file: missing, context: fixtures.context }), 'load(missing file)');
      });
      test(
        'inspect of a truncated file throws a typed error naming the file',
        async () => {
          const a = await get();
          const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-conformance-'));
          try {
            const bytes = await fs.readFile(fixtures.modelFile);
            const truncated = join(dir, fixtures.relativePath.split('/').pop()!);
            await fs.writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 3)));
            const error = await expectTypedError(
              () => a.inspect(truncated).then(() => a.load({ file: truncated, context: fixtures.context })),
              'inspect/load(truncated file)',
            );
            expect(error.message.includes(truncated), `the error must name the file: ${error.message}`);
          } finally {
            await fs.rm(dir, { recursive: true, force: true });
          }
        },
        timeout,
      );
    });
  });
}
