/**
 * Fuzzes the reading of `.onnx` files users bring: mutated copies of a real SpliceAI-shaped graph
 * go through the inspector (what discovery runs) and through `createOnnxModelFromFile` (the layout
 * checks, then onnxruntime's own parser). Every outcome must be a model that loads or a
 * ModelFileError / UnsafeModelFileError naming the file. Budget: METASPLICEAI_FUZZ_SECONDS per
 * target (default 3).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFileError, UnsafeModelFileError } from '@metaspliceai/core';
import { createOnnxModelFromFile, encodeModel, inspectOnnxFile, type OnnxModel, ProtoWriter } from '../src/index.js';
import { fuzz, fuzzTimeout, mutate, typedOutcome } from '../../../test-support/fuzz.js';
import { buildTinyNet, makeTinyNet } from './tiny-net.js';

const CODES = [ModelFileError.code, UnsafeModelFileError.code];
const net = makeTinyNet(5);
const original = buildTinyNet(net, {}, true, true);
const dir = mkdtempSync(join(tmpdir(), 'metaspliceai-onnx-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fuzz: .onnx files', () => {
  it(
    'mutated graphs give a typed error naming the file, or load and run',
    async () => {
      const stats = await fuzz({ name: 'onnx' }, async ({ iteration, random }, record) => {
        const { bytes, steps } = mutate(original, random);
        record(bytes, steps);
        const file = join(dir, `case-${iteration}.onnx`);
        writeFileSync(file, bytes);
        try {
          const inspect = await typedOutcome(() => inspectOnnxFile(file), file, CODES);
          const load = await typedOutcome(
            async () => {
              const model = await createOnnxModelFromFile(file, { context: net.context, threads: 1 });
              await model.dispose();
            },
            file,
            CODES,
          );
          return load === 'accepted' ? inspect : load;
        } finally {
          unlinkSync(file);
        }
      });
      expect(Object.values(stats.refused).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    },
    fuzzTimeout(),
  );
});

/** A graph whose output comes out of an Identity/Reshape loop, or whose weight is external data at `location`. */
function graph(options: { loop?: boolean; location?: string }): Uint8Array {
  const model: OnnxModel = {
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'fuzz',
    producerVersion: '1',
    graph: {
      name: 'g',
      nodes: options.loop
        ? [
            { opType: 'Conv', inputs: ['x', 'w'], outputs: ['y'] },
            { opType: 'Identity', inputs: ['b'], outputs: ['a'] },
            { opType: 'Reshape', inputs: ['a', 'shape'], outputs: ['b'] },
          ]
        : [
            { opType: 'Conv', inputs: ['x', 'w'], outputs: ['y'] },
            { opType: 'Softmax', inputs: ['y'], outputs: ['a'], attributes: [{ name: 'axis', kind: 'int', value: 1 }] },
          ],
      initializers: [],
      inputs: [{ name: 'x', elemType: 1, shape: ['N', 4, 'L'] }],
      outputs: [{ name: 'a', elemType: 1, shape: ['N', 3, 'L'] }],
    },
  };
  const bytes = encodeModel(model);
  if (options.location === undefined) return bytes;
  // graph.initializer w: dims (3, 4, 1), float, external_data { location }, data_location EXTERNAL.
  const tensor = new ProtoWriter().packedVarints(1, [3, 4, 1]).varint(2, 1).string(8, 'w');
  tensor.message(13, new ProtoWriter().string(1, 'location').string(2, options.location)).varint(14, 1);
  // A second `graph` field merges into the first (protobuf semantics), adding the initializer.
  const extra = new ProtoWriter().message(7, new ProtoWriter().message(5, tensor)).finish();
  return Buffer.concat([bytes, extra]);
}

describe('regressions the fuzzer found', () => {
  it('an output produced by a loop of shape operators is refused by onnxruntime, not followed forever', async () => {
    const file = join(dir, 'loop.onnx');
    writeFileSync(file, graph({ loop: true }));
    const error = await createOnnxModelFromFile(file, { context: 0, threads: 1 }).catch((e: unknown) => e);
    expect(ModelFileError.isInstance(error), String(error)).toBe(true);
    expect((error as Error).message).toContain(file);
  });

  it('external data outside the model folder is refused before any runtime reads it', async () => {
    const models = join(dir, 'models');
    mkdirSync(models, { recursive: true });
    writeFileSync(join(dir, 'secret.bin'), Buffer.alloc(48, 1));
    writeFileSync(join(models, 'weights.bin'), Buffer.alloc(48, 1));
    for (const location of ['../secret.bin', join(dir, 'secret.bin'), 'sub/../../secret.bin', 'C:\\secret.bin']) {
      const file = join(models, 'external.onnx');
      writeFileSync(file, graph({ location }));
      for (const read of [() => inspectOnnxFile(file), () => createOnnxModelFromFile(file, { context: 0, threads: 1 })]) {
        const error = await read().catch((e: unknown) => e);
        expect(UnsafeModelFileError.isInstance(error), `${location}: ${String(error)}`).toBe(true);
        expect((error as Error).message).toMatch(/external data location .* refused/);
        expect((error as Error).message).toContain(file);
      }
    }
    // A data file next to the model is fine.
    const file = join(models, 'external.onnx');
    writeFileSync(file, graph({ location: 'weights.bin' }));
    const model = await createOnnxModelFromFile(file, { context: 0, threads: 1 });
    await model.dispose();
    expect(readFileSync(join(models, 'weights.bin')).length).toBe(48);
  });
});
