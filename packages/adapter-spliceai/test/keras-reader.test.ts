import h5wasm from 'h5wasm/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { inspectKerasModel, readKerasModel, type KerasGraph } from '../src/keras/index.js';
import { spliceaiFile } from './support/fixtures.js';

/** SpliceAI-10k per DOMAIN.md: 16 units, kernels 11 x8, 21 x4, 41 x4; dilations 1 x4, 4 x4, 10 x4, 25 x4. */
const UNIT_KERNELS = [...Array(8).fill(11), ...Array(4).fill(21), ...Array(4).fill(41)] as number[];
const UNIT_DILATIONS = [...Array(4).fill(1), ...Array(4).fill(4), ...Array(4).fill(10), ...Array(4).fill(25)] as number[];

/** Parameters counted from the architecture alone, independently of the reader. */
function expectedParameters(): number {
  const c = 32;
  const first = 4 * c + c;
  const skips = 5 * (c * c + c);
  const residual = UNIT_KERNELS.reduce((sum, k) => sum + 2 * (k * c * c + c), 0);
  const final = c * 3 + 3;
  const batchNorm = 32 * 4 * c;
  return first + skips + residual + final + batchNorm;
}

describe('readKerasModel (spliceai1.h5)', () => {
  let graph: KerasGraph;
  beforeAll(async () => {
    graph = await readKerasModel(spliceaiFile(1));
  });

  it('describes the whole SpliceAI-10k network', () => {
    expect(graph.file).toBe(spliceaiFile(1));
    expect(graph.layers).toHaveLength(125);
    expect(graph.input).toBe('input_1');
    expect(graph.output).toBe('conv1d_39');
    expect(graph.context).toBe(10000);
    expect(graph.residualUnits).toBe(16);
    expect(graph.channels).toBe(32);
    expect(graph.inputChannels).toBe(4);
    expect(graph.outputChannels).toBe(3);
    expect(graph.parameterCount).toBe(expectedParameters());
    const counts: Record<string, number> = {};
    for (const layer of graph.layers) counts[layer.kind] = (counts[layer.kind] ?? 0) + 1;
    expect(counts).toEqual({ InputLayer: 1, Conv1D: 39, BatchNormalization: 32, Activation: 32, Add: 20, Cropping1D: 1 });
  });

  it('lists layers after their inputs', () => {
    const seen = new Set<string>();
    for (const layer of graph.layers) {
      for (const input of layer.inputs) expect(seen.has(input), `${layer.name} reads ${input}`).toBe(true);
      seen.add(layer.name);
    }
    expect(graph.layers[0]!.name).toBe(graph.input);
  });

  it('reads kernel sizes and dilations of the residual path, in order', () => {
    const wide = graph.layers.filter((l) => l.conv && l.conv.kernelShape[0] > 1).map((l) => l.conv!);
    expect(wide.map((c) => c.kernelShape[0])).toEqual(UNIT_KERNELS.flatMap((k) => [k, k]));
    expect(wide.map((c) => c.dilation)).toEqual(UNIT_DILATIONS.flatMap((d) => [d, d]));
    expect(wide.every((c) => c.padding === 'same' && c.kernelShape[1] === 32 && c.kernelShape[2] === 32)).toBe(true);
    const crops = graph.layers.filter((l) => l.crop).map((l) => l.crop);
    expect(crops).toEqual([[5000, 5000]]);
    const last = graph.layers.find((l) => l.name === graph.output)!;
    expect(last.conv).toMatchObject({ kernelShape: [1, 32, 3], activation: 'softmax', padding: 'valid' });
    expect(last.conv!.bias).toHaveLength(3);
  });

  it('assigns BatchNormalization weights by weight_names, not by the alphabetical group listing', async () => {
    await h5wasm.ready;
    const h5 = new h5wasm.File(spliceaiFile(1), 'r');
    try {
      const read = (w: string) => (h5.get(`model_weights/batch_normalization_7/batch_normalization_7/${w}:0`) as any).value;
      const bn = graph.layers.find((l) => l.name === 'batch_normalization_7')!.batchNorm!;
      expect(bn.gamma).toEqual(read('gamma'));
      expect(bn.beta).toEqual(read('beta'));
      expect(bn.mean).toEqual(read('moving_mean'));
      expect(bn.variance).toEqual(read('moving_variance'));
      expect(bn.gamma).not.toEqual(bn.beta);
      expect(bn.epsilon).toBeCloseTo(1e-3, 12);
      expect([...bn.variance].every((v) => v > 0)).toBe(true);
    } finally {
      h5.close();
    }
  });

  it('reads many files in sequence without growing the HDF5 heap', async () => {
    const module = await h5wasm.ready;
    await readKerasModel(spliceaiFile(2));
    const before = module.HEAPU8.length;
    for (let round = 0; round < 2; round++) {
      for (let i = 1; i <= 5; i++) await readKerasModel(spliceaiFile(i));
    }
    expect(module.HEAPU8.length).toBe(before);
  });
});

describe('inspectKerasModel', () => {
  it('reads context, architecture and parameters from every SpliceAI file, quickly', async () => {
    await inspectKerasModel(spliceaiFile(1)); // loads h5wasm once
    const start = performance.now();
    for (let i = 1; i <= 5; i++) {
      const info = await inspectKerasModel(spliceaiFile(i));
      expect(info).toEqual({
        context: 10000,
        architecture: 'SpliceNet-10000 (16 residual units, 32 channels)',
        parameterCount: expectedParameters(),
        format: 'keras-h5',
      });
    }
    // About 30 ms a file here; the bound leaves room for a busy machine.
    expect((performance.now() - start) / 5).toBeLessThan(250);
  });

  it('resolves relative paths', async () => {
    const relative = (await import('node:path')).relative(process.cwd(), spliceaiFile(3));
    expect((await inspectKerasModel(relative)).context).toBe(10000);
  });
});
