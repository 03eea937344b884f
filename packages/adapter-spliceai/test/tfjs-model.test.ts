import { InvalidArgumentError, type LoadedModel } from '@metaspliceai/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKerasModel, type KerasGraph } from '../src/keras/index.js';
import { createTfjsModel, detectTfjsBackends } from '../src/tfjs/index.js';
import { loadTfjsRuntime } from '../src/tfjs/backend.js';
import { planGraph } from '../src/tfjs/plan.js';
import { spliceaiFile } from './support/fixtures.js';

describe('detectTfjsBackends', () => {
  it('reports each backend with a reason', async () => {
    const report = await detectTfjsBackends();
    expect(report.wasm).toBe(true); // tfjs-core and tfjs-backend-wasm are dev dependencies
    expect(report.details.some((d) => d.startsWith('@tensorflow/tfjs-node:'))).toBe(true);
    expect(report.details.some((d) => d.startsWith('@tensorflow/tfjs-node-gpu:'))).toBe(true);
    if (!report.node) expect(report.details).toContain('@tensorflow/tfjs-node: not installed');
  });
});

describe('planGraph', () => {
  it('folds each inner BatchNormalization and relu into the convolution before it', async () => {
    const graph = await readKerasModel(spliceaiFile(1));
    const steps = planGraph(graph);
    // 16 units: BN2 and its relu disappear into conv1 of each unit.
    expect(steps).toHaveLength(graph.layers.length - 32);
    const fused = steps.filter((s) => s.kind === 'conv' && s.activation === 'relu');
    expect(fused).toHaveLength(16);
    expect(steps.at(-1)).toMatchObject({ kind: 'conv', name: graph.output, activation: 'softmax' });
  });
});

describe('a loaded tfjs model', () => {
  let graph: KerasGraph;
  let model: LoadedModel;
  beforeAll(async () => {
    graph = await readKerasModel(spliceaiFile(1));
    model = await createTfjsModel(graph, { prefer: 'wasm' });
  });
  afterAll(async () => {
    await model.dispose();
  });

  it('states its context, backend and device', () => {
    expect(model.context).toBe(10000);
    expect(model.backend).toBe('tfjs-wasm');
    expect(model.device).toBe('cpu');
  });

  it('frees every intermediate tensor, and its weights on dispose', async () => {
    const { tf } = await loadTfjsRuntime({ prefer: 'wasm' });
    const before = tf.memory().numTensors;
    const out = await model.predict({ codes: new Uint8Array(10100).fill(1), batch: 1, length: 10100 });
    expect(out).toHaveLength(100 * 3);
    // Probabilities: each row sums to 1.
    for (let p = 0; p < 100; p++) expect(out[p * 3]! + out[p * 3 + 1]! + out[p * 3 + 2]!).toBeCloseTo(1, 5);
    expect(tf.memory().numTensors).toBe(before);

    const other = await createTfjsModel(graph, { prefer: 'wasm' });
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    await other.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(other.predict({ codes: new Uint8Array(10100), batch: 1, length: 10100 })).rejects.toSatisfy(InvalidArgumentError.isInstance);
  });

  it('rejects malformed batches with InvalidArgumentError', async () => {
    await expect(model.predict({ codes: new Uint8Array(100), batch: 2, length: 10100 })).rejects.toSatisfy(InvalidArgumentError.isInstance);
    await expect(model.predict({ codes: new Uint8Array(10000), batch: 1, length: 10000 })).rejects.toSatisfy(InvalidArgumentError.isInstance);
  });

  it('refuses a graph read without weight values', async () => {
    const empty = { ...graph, layers: graph.layers.map((l) => (l.conv ? { ...l, conv: { ...l.conv, kernel: new Float32Array(0) } } : l)) };
    await expect(createTfjsModel(empty, {})).rejects.toSatisfy(InvalidArgumentError.isInstance);
  });
});
