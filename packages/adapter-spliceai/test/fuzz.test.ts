/**
 * Fuzzes the Keras .h5 reading with mutated copies of spliceai1.h5: raw byte mutations (aimed
 * mostly at the HDF5 metadata near the start of the file: superblock, object headers, heaps,
 * B-trees, the model_config attribute) and structural mutations of the model_config JSON written
 * back with h5wasm (a wrong config in a well-formed HDF5 file). Inspection, reading and the ONNX
 * emission that loading runs must accept the file or fail with a ModelFileError naming it; HDF5
 * runs inside WebAssembly, so a corrupt file cannot reach past the wasm memory. Budget:
 * METASPLICEAI_FUZZ_SECONDS per target (default 3).
 */
import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '@metaspliceai/core';
import { inspectKerasModel, kerasGraphToOnnx, readKerasModel } from '../src/index.js';
import { withH5File } from '../src/keras/h5-file.js';
import { fuzz, fuzzTimeout, mutate, mutateJson, type Random, typedOutcome } from '../../../test-support/fuzz.js';
import { spliceaiFile } from './support/fixtures.js';
import { removeTempDirs, tempDir } from './support/h5-copies.js';

afterAll(removeTempDirs);

const CODES = [ModelFileError.code];
const original = readFileSync(spliceaiFile(1));
const dir = tempDir();

/** Inspection, then the full read and the ONNX graph a load would build from it. */
/** Reads a fuzzed file every way, then deletes it. */
async function readThenRemove(file: string): ReturnType<typeof readAllWays> {
  try {
    return await readAllWays(file);
  } finally {
    unlinkSync(file);
  }
}

async function readAllWays(file: string) {
  const inspect = await typedOutcome(() => inspectKerasModel(file), file, CODES);
  const load = await typedOutcome(async () => kerasGraphToOnnx(await readKerasModel(file)), file, CODES);
  if (inspect !== 'accepted') expect(load, `inspect refused (${inspect.message}) but load accepted`).not.toBe('accepted');
  return load === 'accepted' ? inspect : load;
}

/**
 * The writer's own HDF5 instance: the byte fuzzing can make the reader's instance abort, and an
 * aborted instance is left in an unusable state (the reader moves on to a fresh one; so does this).
 */
const writer = (await import(/* @vite-ignore */ `${import.meta.resolve('h5wasm/node')}?writer`)) as typeof h5wasm;
await writer.ready;

/** A copy of spliceai1.h5 whose model_config is `text`, written with h5wasm as a user's tool would. */
async function withConfig(file: string, text: string): Promise<void> {
  writeFileSync(file, original);
  const h5 = new writer.File(file, 'a');
  try {
    h5.delete_attribute('model_config');
    h5.create_attribute('model_config', text);
  } finally {
    h5.close();
  }
}

const config = JSON.parse(
  await (async () => {
    await h5wasm.ready;
    const h5 = new h5wasm.File(spliceaiFile(1), 'r');
    try {
      return h5.attrs['model_config']!.value as string;
    } finally {
      h5.close();
    }
  })(),
);

/** A structural mutation of one layer (or of the model's top level), or a byte mutation of the text. */
function configMutation(random: Random): { text: string; steps: string[] } {
  if (random() < 0.2) {
    const { bytes, steps } = mutate(Buffer.from(JSON.stringify(config)), random, { maxMutations: 3 });
    return { text: Buffer.from(bytes).toString('latin1'), steps: ['config bytes', ...steps] };
  }
  const copy = JSON.parse(JSON.stringify(config));
  const layers = copy.config.layers as unknown[];
  if (random() < 0.85) {
    const i = random.int(layers.length);
    const { value, steps } = mutateJson(layers[i], random);
    layers[i] = value;
    return { text: JSON.stringify(copy), steps: [`layer ${i}`, ...steps] };
  }
  const { value, steps } = mutateJson({ ...copy, config: { ...copy.config, layers: layers.slice(0, 3) } }, random);
  const mutated = value as { config?: { layers?: unknown } };
  // Keep the other layers so the mutation is the only difference.
  if (mutated?.config && Array.isArray(mutated.config.layers)) mutated.config.layers = [...mutated.config.layers, ...layers.slice(3)];
  return { text: JSON.stringify(mutated), steps: ['top level', ...steps] };
}

describe('fuzz: Keras .h5 reading', () => {
  it(
    'mutated HDF5 bytes give a ModelFileError naming the file, or load',
    async () => {
      const stats = await fuzz({ name: 'h5-bytes' }, async ({ iteration, random }, record) => {
        const { bytes, steps } = mutate(original, random, { focus: [[0, 100_000]], focusShare: 0.85 });
        record(bytes, steps);
        const file = path.join(dir, `bytes-${iteration}.h5`);
        writeFileSync(file, bytes);
        return readThenRemove(file);
      });
      expect(Object.values(stats.refused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    },
    fuzzTimeout(),
  );

  it(
    'a wrong model_config in a well-formed file gives a ModelFileError naming the file, or loads',
    async () => {
      const stats = await fuzz({ name: 'h5-config' }, async ({ iteration, random }, record) => {
        const { text, steps } = configMutation(random);
        record(Buffer.from(text, 'latin1'), steps);
        const file = path.join(dir, `config-${iteration}.h5`);
        await withConfig(file, text);
        return readThenRemove(file);
      });
      expect(Object.values(stats.refused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    },
    fuzzTimeout(),
  );

  it('the real file still reads after the fuzzing (the wasm module is not left broken)', async () => {
    expect((await inspectKerasModel(spliceaiFile(1))).context).toBe(10000);
  });
});

/** Open file descriptors of this process (Linux), or undefined where /proc is not there. */
const openDescriptors = () => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : undefined);

describe('regressions the fuzzer found', () => {
  it('a refused file leaves no file descriptor open (h5wasm prints HDF5 errors into a tmpfile it never closes)', async () => {
    const file = path.join(dir, 'noise.h5');
    writeFileSync(file, Buffer.alloc(5000, 7));
    const truncated = path.join(dir, 'truncated.h5');
    writeFileSync(truncated, original.subarray(0, 3_000_000));
    await inspectKerasModel(file).catch(() => undefined); // warm up: the first call opens h5wasm's own files
    const before = openDescriptors();
    for (let i = 0; i < 20; i++) {
      for (const f of [file, truncated]) expect(ModelFileError.isInstance(await inspectKerasModel(f).catch((e: unknown) => e))).toBe(true);
    }
    expect(openDescriptors()).toBe(before);
  });

  it('an abort inside the WebAssembly module is a ModelFileError, and the next file is read by a fresh HDF5 instance', async () => {
    const before = openDescriptors();
    const abort = () => {
      // What emscripten throws when HDF5 (or its allocator) calls abort().
      throw Object.assign(new Error('Aborted(native code called abort())'), { name: 'RuntimeError' });
    };
    const error = await withH5File(spliceaiFile(1), abort).catch((e: unknown) => e);
    expect(ModelFileError.isInstance(error), String(error)).toBe(true);
    expect((error as Error).message).toBe(`${spliceaiFile(1)}: is corrupt: HDF5 aborted while reading it (a fresh HDF5 instance reads the next file)`);
    expect((await inspectKerasModel(spliceaiFile(1))).context).toBe(10000);
    expect((await readKerasModel(spliceaiFile(2))).context).toBe(10000);
    // The aborted instance's handle on the file was closed with it.
    expect(openDescriptors()).toBe(before);
  });
});
