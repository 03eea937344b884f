import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { DeviceUnavailableError, InvalidArgumentError, ModelFileError, MetaSpliceAIError } from '@metaspliceai/core';
import { type OnnxNode, OnnxDataType, createOnnxModel, createOnnxModelFromFile, encodeModel, GPU_PROVIDER_ENV, floatTensor } from '../src/index.js';
import { loadOnnxRuntime } from '../src/runtime.js';
import { buildTinyNet, makeTinyNet, maxDiff, randomCodes, rng } from './tiny-net.js';

const net = makeTinyNet(3);
const dir = mkdtempSync(join(tmpdir(), 'msai-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeModel(name: string, bytes: Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/** A one-conv model `(N, L, 4)` -> Transpose -> Conv k=3 (same) -> Transpose -> Softmax, output `(N, L, 3)`. */
function channelsLastModel(weight: Float32Array, bias: Float32Array): Uint8Array {
  const nodes: OnnxNode[] = [
    { opType: 'Transpose', inputs: ['seq'], outputs: ['cf'], attributes: [{ name: 'perm', kind: 'ints', value: [0, 2, 1] }] },
    {
      opType: 'Conv',
      inputs: ['cf', 'w', 'b'],
      outputs: ['logits'],
      attributes: [
        { name: 'kernel_shape', kind: 'ints', value: [3] },
        { name: 'pads', kind: 'ints', value: [1, 1] },
      ],
    },
    { opType: 'Transpose', inputs: ['logits'], outputs: ['cl'], attributes: [{ name: 'perm', kind: 'ints', value: [0, 2, 1] }] },
    { opType: 'Softmax', inputs: ['cl'], outputs: ['probs'], attributes: [{ name: 'axis', kind: 'int', value: -1 }] },
  ];
  return encodeModel({
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'test',
    producerVersion: '0',
    graph: {
      name: 'cl',
      nodes,
      initializers: [floatTensor('w', [3, 4, 3], weight), floatTensor('b', [3], bias)],
      inputs: [{ name: 'seq', elemType: OnnxDataType.FLOAT, shape: ['N', 'L', 4] }],
      outputs: [{ name: 'probs', elemType: OnnxDataType.FLOAT, shape: ['N', 'L', 3] }],
    },
  });
}

/** A fixed-shape `(1, 4, 10)` model: 1x1 conv then softmax over channels, like a non-dynamic export. */
function fixedShapeModel(): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'test',
    producerVersion: '0',
    graph: {
      name: 'fixed',
      nodes: [
        { opType: 'Conv', inputs: ['input', 'w'], outputs: ['l'], attributes: [{ name: 'kernel_shape', kind: 'ints', value: [1] }] },
        { opType: 'Softmax', inputs: ['l'], outputs: ['output'], attributes: [{ name: 'axis', kind: 'int', value: 1 }] },
      ],
      initializers: [
        floatTensor(
          'w',
          [3, 4, 1],
          Float32Array.from({ length: 12 }, (_, i) => i / 6 - 1),
        ),
      ],
      inputs: [{ name: 'input', elemType: OnnxDataType.FLOAT, shape: [1, 4, 10] }],
      outputs: [{ name: 'output', elemType: OnnxDataType.FLOAT, shape: [1, 3, 10] }],
    },
  });
}

describe('createOnnxModel', () => {
  it('produces a model onnxruntime accepts, with the declared names and dynamic dims', async () => {
    const ort = await loadOnnxRuntime();
    const session = await ort.InferenceSession.create(buildTinyNet(net));
    expect(session.inputNames).toEqual(['one_hot']);
    expect(session.outputNames).toEqual(['probabilities']);
    const meta = session.inputMetadata[0];
    expect(meta.isTensor && meta.shape).toEqual(['batch', 4, 1, 'length']);
    await session.release();

    const model = await createOnnxModel({ modelBytes: buildTinyNet(net), context: net.context, backendLabel: 'onnx-test' });
    expect([model.inputName, model.outputName, model.backend, model.device, model.context]).toEqual([
      'one_hot',
      'probabilities',
      'onnx-test',
      'cpu',
      net.context,
    ]);
    expect(model.threads).toBeGreaterThan(0);
    await model.dispose();
    await expect(model.predict({ codes: new Uint8Array(40), batch: 1, length: 40 })).rejects.toThrow(InvalidArgumentError);
  });

  it('checks predict arguments', async () => {
    const model = await createOnnxModel({ modelBytes: buildTinyNet(net), context: net.context, threads: 1 });
    await expect(model.predict({ codes: new Uint8Array(10), batch: 1, length: 40 })).rejects.toThrow(/codes hold 10/);
    await expect(model.predict({ codes: new Uint8Array(20), batch: 1, length: 20 })).rejects.toThrow(InvalidArgumentError);
    await model.dispose();
    await expect(createOnnxModel({ modelBytes: buildTinyNet(net), context: 3 })).rejects.toThrow(InvalidArgumentError);
    await expect(createOnnxModel({ modelBytes: buildTinyNet(net), context: 20, threads: 0 })).rejects.toThrow(InvalidArgumentError);
  });

  it('throws DeviceUnavailableError naming each GPU provider when none can run here', async () => {
    // CI machines have neither onnxruntime's CUDA download nor a GPU adapter for WebGPU.
    const error = await createOnnxModel({ modelBytes: buildTinyNet(net), context: net.context, device: 'gpu' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(DeviceUnavailableError.isInstance(error)).toBe(true);
    const e = error as DeviceUnavailableError;
    expect(e.message).toMatch(/cuda: .*webgpu: /);
    expect(e.hint).toMatch(/CUDA.*WebGPU.*--device cpu/);
  });

  it('tries only the GPU provider METASPLICEAI_GPU_PROVIDER names', async () => {
    process.env[GPU_PROVIDER_ENV] = 'webgpu';
    try {
      const error = await createOnnxModel({ modelBytes: buildTinyNet(net), context: net.context, device: 'gpu' }).catch((e: unknown) => e);
      expect(DeviceUnavailableError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/webgpu: /);
      expect((error as Error).message).not.toMatch(/cuda: /);
    } finally {
      delete process.env[GPU_PROVIDER_ENV];
    }
  });

  it('reports the execution provider a CPU model runs on', async () => {
    const model = await createOnnxModel({ modelBytes: buildTinyNet(net), context: net.context });
    expect(model.executionProvider).toBe('cpu');
    await model.dispose();
  });

  it('names the source in a ModelFileError when onnxruntime rejects the bytes', async () => {
    const error = await createOnnxModel({ modelBytes: new Uint8Array([8, 1, 0x3a, 3, 1, 2]), context: 0, source: 'weights.h5' }).catch((e: unknown) => e);
    expect(ModelFileError.isInstance(error)).toBe(true);
    expect((error as ModelFileError).file).toBe('weights.h5');
  });
});

describe('createOnnxModelFromFile', () => {
  it('runs a builder graph saved to disk', async () => {
    const file = writeModel('tiny.onnx', buildTinyNet(net));
    const model = await createOnnxModelFromFile(file, { context: net.context, threads: 1 });
    const codes = randomCodes(2 * 50, 5);
    expect(maxDiff(net, codes, 2, 50, await model.predict({ codes, batch: 2, length: 50 }))).toBeLessThan(1e-5);
    await model.dispose();
  });

  it('accepts an (N, 4, L) Conv1d export that neither crops nor applies softmax', async () => {
    const file = writeModel('logits.onnx', buildTinyNet(net, { convLayout: 'conv1d', outputName: 'logits' }, false, false));
    const model = await createOnnxModelFromFile(file, { context: net.context, threads: 1 });
    expect(model.inputLayout).toBe('NCL');
    expect(model.appliesSoftmax).toBe(true);
    const codes = randomCodes(3 * 45, 9);
    expect(maxDiff(net, codes, 3, 45, await model.predict({ codes, batch: 3, length: 45 }))).toBeLessThan(1e-5);
    await model.dispose();
  });

  it('accepts an (N, L, 4) channels-last model and crops its flanks', async () => {
    const r = rng(4);
    const weight = Float32Array.from({ length: 36 }, () => r() - 0.5);
    const bias = Float32Array.of(0.1, -0.1, 0);
    const file = writeModel('cl.onnx', channelsLastModel(weight, bias));
    const model = await createOnnxModelFromFile(file, { context: 2, threads: 1 });
    expect(model.inputLayout).toBe('NLC');
    expect(model.appliesSoftmax).toBe(false);
    const length = 9;
    const codes = randomCodes(2 * length, 6);
    const out = await model.predict({ codes, batch: 2, length });
    expect(out.length).toBe(2 * (length - 2) * 3);
    for (let b = 0; b < 2; b++) {
      for (let p = 1; p < length - 1; p++) {
        const logits = [0, 1, 2].map((o) => {
          let s = bias[o];
          for (let t = 0; t < 3; t++) {
            const c = codes[b * length + p + t - 1];
            if (c > 0) s += weight[(o * 4 + (c - 1)) * 3 + t];
          }
          return s;
        });
        const e = logits.map(Math.exp);
        const sum = e[0] + e[1] + e[2];
        for (let o = 0; o < 3; o++) expect(out[(b * (length - 2) + p - 1) * 3 + o]).toBeCloseTo(e[o] / sum, 6);
      }
    }
    await model.dispose();
  });

  it('honours fixed batch and length dims', async () => {
    const model = await createOnnxModelFromFile(writeModel('fixed.onnx', fixedShapeModel()), { context: 0, threads: 1 });
    expect([model.fixedBatch, model.fixedLength]).toEqual([1, 10]);
    const out = await model.predict({ codes: randomCodes(30, 1), batch: 3, length: 10 });
    expect(out.length).toBe(3 * 10 * 3);
    await expect(model.predict({ codes: new Uint8Array(12), batch: 1, length: 12 })).rejects.toThrow(/exactly 10 nt/);
    await model.dispose();
  });

  it('reports unreadable and unsupported files as ModelFileError naming the file', async () => {
    for (const [file, pattern] of [
      [join(dir, 'missing.onnx'), /cannot read/],
      [writeModel('garbage.onnx', new Uint8Array([0xff, 0xff, 0xff])), /not a readable ONNX model/],
    ] as const) {
      const error = await createOnnxModelFromFile(file, { context: 0 }).catch((e: unknown) => e);
      expect(ModelFileError.isInstance(error)).toBe(true);
      expect((error as ModelFileError).file).toBe(file);
      expect((error as Error).message).toMatch(pattern);
    }
    const ambiguous = writeModel(
      'ambiguous.onnx',
      encodeModel({
        irVersion: 8,
        opsetVersion: 17,
        producerName: 't',
        producerVersion: '0',
        graph: {
          name: 'a',
          nodes: [{ opType: 'Identity', inputs: ['x'], outputs: ['y'] }],
          initializers: [],
          inputs: [{ name: 'x', elemType: OnnxDataType.FLOAT, shape: ['a', 'b', 'c'] }],
          outputs: [{ name: 'y', elemType: OnnxDataType.FLOAT, shape: ['a', 'b', 'c'] }],
        },
      }),
    );
    const error = await createOnnxModelFromFile(ambiguous, { context: 0 }).catch((e: unknown) => e);
    expect(MetaSpliceAIError.isInstance(error) && error.code).toBe('E_MODEL_FILE');
    expect((error as Error).message).toMatch(/pass inputLayout/);
    // With the layout given, the identity "model" loads; its 4-channel output is then refused.
    const model = await createOnnxModelFromFile(ambiguous, { context: 0, inputLayout: 'NCL', threads: 1 });
    await expect(model.predict({ codes: new Uint8Array(5), batch: 1, length: 5 })).rejects.toThrow(ModelFileError);
    await model.dispose();
  });
});
