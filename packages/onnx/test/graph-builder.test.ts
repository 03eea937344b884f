import { describe, it, expect } from 'vitest';
import { InvalidArgumentError } from '@metaspliceai/core';
import { SpliceGraphBuilder, createOnnxModel, ensembleOptionsFor, inspectModel, type SpliceGraphOptions } from '../src/index.js';
import { buildTinyNet, buildTinyNetStaged, chainAgainstWhole, makeTinyNet, maxDiff, randomCodes, recordTinyNet, referenceForward } from './tiny-net.js';

const net = makeTinyNet(7);

describe('SpliceGraphBuilder + onnxruntime vs a pure-JS reference', () => {
  const configs: SpliceGraphOptions[] = [
    {},
    { convLayout: 'conv1d' },
    { foldBatchNorm: false },
    { convLayout: 'conv1d', foldBatchNorm: false },
    { trimToNeeded: false },
  ];
  for (const options of configs) {
    it(`matches the reference to 1e-5 (${JSON.stringify(options)})`, async () => {
      const model = await createOnnxModel({ modelBytes: buildTinyNet(net, options), context: net.context, threads: 1 });
      try {
        const batch = 3;
        const length = 64;
        const codes = randomCodes(batch * length, 11);
        const out = await model.predict({ codes, batch, length });
        expect(out.length).toBe(batch * (length - net.context) * 3);
        expect(maxDiff(net, codes, batch, length, out)).toBeLessThan(1e-5);
      } finally {
        await model.dispose();
      }
    });
  }

  it('trims layers to what later layers need: unpadded convs, cropped sums, a smaller final crop', () => {
    const trimmed = inspectModel(buildTinyNet(net));
    const padded = inspectModel(buildTinyNet(net, { trimToNeeded: false }));
    const pads = (m: typeof trimmed) => m.nodes.filter((n) => n.opType === 'Conv').map((n) => n.attributes.pads ?? []);
    expect(pads(trimmed).every((p) => (p as number[]).every((v) => v === 0))).toBe(true);
    expect(pads(padded).some((p) => (p as number[]).some((v) => v > 0))).toBe(true);
    const crops = (m: typeof trimmed) => m.nodes.filter((n) => n.opType === 'Slice' || n.attributes.kernel_shape?.toString() === '1,3').length;
    expect(crops(trimmed)).toBeGreaterThan(crops(padded));
    // Without a crop covering the convolutions' reach, trimming would change the outputs: it is not applied.
    const uncropped = inspectModel(buildTinyNet(net, {}, true, false));
    expect(pads(uncropped).some((p) => (p as number[]).some((v) => v > 0))).toBe(true);
  });

  it('takes any batch size and length (dynamic axes), codes with N included', async () => {
    const model = await createOnnxModel({ modelBytes: buildTinyNet(net), context: net.context, threads: 2 });
    expect(model.inputLayout).toBe('NC1L');
    expect(model.appliesSoftmax).toBe(false);
    expect(model.fixedBatch).toBeUndefined();
    expect(model.fixedLength).toBeUndefined();
    for (const [batch, length, seed] of [
      [1, net.context + 1, 1],
      [5, 137, 2],
      [2, 301, 3],
    ]) {
      const codes = randomCodes(batch * length, seed);
      const out = await model.predict({ codes, batch, length });
      expect(out.length).toBe(batch * (length - net.context) * 3);
      expect(maxDiff(net, codes, batch, length, out)).toBeLessThan(1e-5);
    }
    // All N: every position sees only zeros; rows still sum to 1.
    const allN = await model.predict({ codes: new Uint8Array(50), batch: 1, length: 50 });
    for (let p = 0; p < 50 - net.context; p++) expect(allN[p * 3] + allN[p * 3 + 1] + allN[p * 3 + 2]).toBeCloseTo(1, 6);
    await model.dispose();
  });

  it('folds a batch norm into the conv it follows, and only there', () => {
    const isBatchNorm = (n: { opType: string; attributes: Record<string, unknown> }) =>
      n.opType === 'Conv' && (n.attributes.group as number) > 1 && ['1,1', '1'].includes(String(n.attributes.kernel_shape));
    const batchNorms = (options: SpliceGraphOptions) => inspectModel(buildTinyNet(net, options)).nodes.filter(isBatchNorm).length;
    // Each unit's second BN follows a conv (folded); the first follows an Add (kept, as a depthwise 1x1 Conv).
    expect(batchNorms({})).toBe(2);
    expect(batchNorms({ foldBatchNorm: false })).toBe(4);
    expect(batchNorms({ convLayout: 'conv1d' })).toBe(2);
  });

  it('writes the other batch norms and equal crops as depthwise convs, so onnxruntime keeps its blocked layout', () => {
    for (const options of [{}, { convLayout: 'conv1d' }] as const) {
      const nodes = inspectModel(buildTinyNet(net, options)).nodes;
      const depthwise = nodes.filter((n) => n.opType === 'Conv' && (n.attributes.group as number) > 1);
      expect(nodes.some((n) => n.opType === 'BatchNormalization' || n.opType === 'Slice' || n.opType === 'Mul')).toBe(false);
      expect(depthwise.filter((n) => ['1,3', '3'].includes(String(n.attributes.kernel_shape))).length).toBeGreaterThan(0);
    }
  });

  it('crops unequal ends with a Slice', async () => {
    const g = new SpliceGraphBuilder();
    const w = new Float32Array(3 * 4).map((_, i) => i / 12);
    const y = g.softmax(g.crop(g.conv1d(g.input(), { weight: w, shape: [3, 4, 1] }), 1, 3));
    const bytes = g.build(y);
    expect(inspectModel(bytes).nodes.map((n) => n.opType)).toContain('Slice');
    const model = await createOnnxModel({ modelBytes: bytes, context: 4, threads: 1 });
    expect((await model.predict({ codes: new Uint8Array([1, 2, 3, 4, 1, 2]), batch: 1, length: 6 })).length).toBe(2 * 3);
    await model.dispose();
  });

  it('emits height-1 Conv2d by default and Conv1d on request', () => {
    const conv2d = inspectModel(buildTinyNet(net)).nodes.find((n) => n.opType === 'Conv' && n.attributes.dilations);
    expect(conv2d?.attributes.kernel_shape).toEqual([1, 1]);
    const dilated = inspectModel(buildTinyNet(net))
      .nodes.filter((n) => n.opType === 'Conv')
      .map((n) => n.attributes.dilations);
    expect(dilated).toContainEqual([1, 2]);
    const conv1d = inspectModel(buildTinyNet(net, { convLayout: 'conv1d' })).nodes.filter((n) => n.opType === 'Conv');
    expect(conv1d.map((n) => n.attributes.dilations)).toContainEqual([2]);
  });

  it('tracks lost positions and handles valid padding and explicit pads', async () => {
    const g = new SpliceGraphBuilder();
    const w = new Float32Array(3 * 4 * 3).map((_, i) => ((i * 7) % 5) / 5 - 0.4);
    const v = g.conv1d(g.input(), { weight: w, shape: [3, 4, 3], dilation: 2, padding: 'valid' });
    expect(v.context).toBe(4);
    const p = g.conv1d(g.input(), { weight: w, shape: [3, 4, 3], dilation: 2, padding: [1, 1] });
    expect(p.context).toBe(2);
    const y = g.softmax(g.add(v, g.crop(p, 1, 1)));
    expect(y.context).toBe(4);
    const model = await createOnnxModel({ modelBytes: g.build(y), context: 4, threads: 1 });
    const out = await model.predict({ codes: new Uint8Array([1, 2, 3, 4, 0, 1, 2, 3]), batch: 1, length: 8 });
    expect(out.length).toBe(4 * 3);
    await model.dispose();
  });

  it('rejects mismatched shapes with InvalidArgumentError', () => {
    const g = new SpliceGraphBuilder();
    const x = g.input();
    expect(() => g.conv1d(x, { weight: new Float32Array(8 * 5), shape: [8, 5, 1] })).toThrow(InvalidArgumentError);
    expect(() => g.conv1d(x, { weight: new Float32Array(7), shape: [8, 4, 1] })).toThrow(/weight has 7 values/);
    const a = g.conv1d(x, { weight: new Float32Array(8 * 4 * 3), shape: [8, 4, 3], padding: 'valid' });
    const b = g.conv1d(x, { weight: new Float32Array(8 * 4), shape: [8, 4, 1] });
    expect(() => g.add(a, b)).toThrow(/positions lost 2 vs 0/);
    expect(() =>
      g.batchNorm(b, { gamma: new Float32Array(3), beta: new Float32Array(8), mean: new Float32Array(8), variance: new Float32Array(8), epsilon: 1e-3 }),
    ).toThrow(InvalidArgumentError);
    expect(() => new SpliceGraphBuilder().relu(b)).toThrow(/does not belong/);
    expect(() => g.build(x)).toThrow(InvalidArgumentError);
  });
});

describe('SpliceGraphBuilder.buildStaged', () => {
  const deep = makeTinyNet(5, [3, 5, 3, 5], [1, 2, 4, 1]);
  const staging = { dist: 2, maxStages: 4 };

  for (const [label, options, softmax] of [
    ['conv2d', {}, true],
    ['conv1d, logits', { convLayout: 'conv1d' }, false],
  ] as const) {
    it(`chains to the same numbers as the whole graph (${label})`, async () => {
      const graphs = buildTinyNetStaged(deep, options, staging, softmax)!;
      expect(graphs.models.length).toBeGreaterThan(1);
      expect(graphs.reach.reduce((a, b) => a + b, 0)).toBe(deep.context / 2);
      expect(graphs.reach.every((r) => r > 0)).toBe(true);
      const [batch, length] = [2, 90];
      const codes = randomCodes(batch * length, 4);
      const model = {
        modelBytes: buildTinyNet(deep, options, softmax),
        context: deep.context,
        threads: 1,
        stagedGraphs: () => buildTinyNetStaged(deep, options, staging, softmax),
      };
      const { reach, chained, difference } = await chainAgainstWhole(model, codes, batch, length);
      expect(reach).toEqual(graphs.reach);
      expect(difference).toBeLessThan(1e-6);
      expect(maxDiff(deep, codes, batch, length, chained)).toBeLessThan(1e-5);
    });
  }

  it('a stage output sees only the 2 * reach + 1 inputs below it', async () => {
    const model = await createOnnxModel({
      modelBytes: buildTinyNet(deep),
      context: deep.context,
      threads: 1,
      stagedGraphs: () => buildTinyNetStaged(deep, {}, staging),
    });
    try {
      const stages = model.stages!;
      const length = 80;
      const codes = randomCodes(length, 9);
      const changed = codes.slice();
      const x = 37;
      changed[x] = codes[x] === 1 ? 2 : 1;
      const a = await stages.runFirst({ codes, batch: 1, length });
      const b = await stages.runFirst({ codes: changed, batch: 1, length });
      const r = stages.reach[0];
      const differing = new Set<number>();
      for (let c = 0; c < a.channels; c++) {
        for (let j = 0; j < a.length; j++) if (a.data[c * a.length + j] !== b.data[c * a.length + j]) differing.add(j);
      }
      expect(a.length).toBe(length - 2 * r);
      expect(differing.size).toBeGreaterThan(0);
      expect(Math.min(...differing)).toBeGreaterThanOrEqual(x - 2 * r);
      expect(Math.max(...differing)).toBeLessThanOrEqual(x);
    } finally {
      await model.dispose();
    }
  });

  it('gives no stages when the graph cannot be trimmed', () => {
    expect(buildTinyNetStaged(deep, { trimToNeeded: false }, staging)).toBeUndefined();
  });
  it('counts what rescoring one base change costs: the minimal cone by hand, the cuts between it and a whole window', () => {
    const graphs = buildTinyNetStaged(deep, {}, staging)!;
    const half = deep.context / 2;
    const c = deep.channels;
    // Each conv with the positions it has lost since the input: the first (1x1) and the first skip at
    // 0, a unit's convs by their reach, the unit's skip where the unit ends, the last after the crop.
    const convs: { k: number; inC: number; outC: number; lost: number }[] = [
      { k: 1, inC: 4, outC: c, lost: 0 },
      { k: 1, inC: c, outC: c, lost: 0 },
    ];
    let lost = 0;
    for (const u of deep.units) {
      for (const conv of [u.conv1, u.conv2]) convs.push({ k: conv.k, inC: c, outC: c, lost: (lost += (conv.dilation * (conv.k - 1)) / 2) });
      convs.push({ k: 1, inC: c, outC: c, lost });
    }
    convs.push({ k: 1, inC: c, outC: 3, lost: half });
    for (const dist of [2, 5, 30]) {
      const out = 2 * dist + 1;
      const macs = (width: (lost: number) => number) => convs.reduce((sum, v) => sum + width(v.lost) * v.k * v.inC * v.outC, 0);
      // Where the change reaches and the outputs need; a whole alternate window, trimmed.
      const minimal = macs((lost) => Math.min(1 + 2 * lost, out + 2 * (half - lost)));
      const whole = macs((lost) => out + 2 * (half - lost));
      const work = graphs.coneCost(dist);
      expect(work.minimal).toBe(minimal);
      expect(work.staged).toBeGreaterThan(minimal);
      expect(work.staged).toBeLessThan(whole);
    }
    // An ensemble costs its members' sum.
    const twice = SpliceGraphBuilder.buildStagedMean(
      [5, 5].map(() => {
        const { g, out } = recordTinyNet(deep);
        return { builder: g, output: out };
      }),
      staging,
    )!;
    const one = graphs.coneCost(5);
    expect(twice.coneCost(5)).toEqual({ staged: 2 * one.staged, minimal: 2 * one.minimal });
  });
});

describe('SpliceGraphBuilder.buildMean (an ensemble in one graph)', () => {
  const nets = [makeTinyNet(5, [3, 5, 3, 5], [1, 2, 4, 1]), makeTinyNet(6, [3, 5, 3, 5], [1, 2, 4, 1]), makeTinyNet(7, [3, 5, 3, 5], [1, 2, 4, 1])];
  const members = () =>
    nets.map((net) => {
      const { g, out } = recordTinyNet(net);
      return { builder: g, output: out };
    });
  const [batch, length] = [2, 90];
  const codes = randomCodes(batch * length, 12);
  /** The float64 mean of the members' reference outputs, tile after tile. */
  const expected = (): Float64Array => {
    const n = length - nets[0].context;
    const mean = new Float64Array(batch * n * 3);
    for (const net of nets) {
      for (let b = 0; b < batch; b++) {
        const ref = referenceForward(net, codes.subarray(b * length, (b + 1) * length));
        for (let i = 0; i < ref.length; i++) mean[b * n * 3 + i] += ref[i] / nets.length;
      }
    }
    return mean;
  };

  it('gives the mean of the members, read as probabilities (no second softmax)', async () => {
    const bytes = SpliceGraphBuilder.buildMean(members());
    const summary = inspectModel(bytes);
    expect(summary.nodes.filter((n) => n.opType === 'Mean')).toHaveLength(1);
    expect(summary.metadata).toMatchObject({ members: '3', context: String(nets[0].context) });
    const model = await createOnnxModel({ modelBytes: bytes, context: nets[0].context, threads: 1, memoryArena: true });
    try {
      expect(model.appliesSoftmax).toBe(false);
      const out = await model.predict({ codes, batch, length });
      const want = expected();
      expect(Math.max(...out.map((v, i) => Math.abs(v - want[i])))).toBeLessThan(1e-5);
    } finally {
      await model.dispose();
    }
  });

  it('stages the mean: the state is the members side by side, and the chain gives the whole graph', async () => {
    const graphs = SpliceGraphBuilder.buildStagedMean(members(), { dist: 2, maxStages: 4 })!;
    const single = buildTinyNetStaged(nets[0], {}, { dist: 2, maxStages: 4 })!;
    expect(graphs.reach).toEqual(single.reach);
    expect(graphs.channels).toEqual(single.channels.map((c) => c * nets.length));
    // Every stage runs the members' trunk as grouped convolutions, unless asked for one branch per member.
    const grouped = (bytes: Uint8Array) => inspectModel(bytes).nodes.some((n) => n.opType === 'Conv' && n.attributes.group === nets.length);
    expect(graphs.models.every(grouped)).toBe(true);
    const branches = SpliceGraphBuilder.buildStagedMean(members(), { dist: 2, maxStages: 4, fuseMembers: false })!;
    expect(branches.reach).toEqual(graphs.reach);
    expect(branches.models.some(grouped)).toBe(false);
    expect(ensembleOptionsFor('gpu')).toEqual({ fuseMembers: false });
    expect(ensembleOptionsFor('cpu')).toEqual({});
    for (const staged of [graphs, branches]) {
      const model = { modelBytes: SpliceGraphBuilder.buildMean(members()), context: nets[0].context, threads: 1, stagedGraphs: () => staged };
      expect((await chainAgainstWhole(model, codes, batch, length)).difference).toBeLessThan(1e-6);
    }
  });

  it('runs the shared trunk as one grouped convolution per layer on request, with the numbers of one branch per member', async () => {
    const fused = inspectModel(SpliceGraphBuilder.buildMean(members(), { fuseMembers: true }));
    // Whole graphs keep a branch per member unless asked (memory: every member's intermediates would be alive at once).
    const separate = inspectModel(SpliceGraphBuilder.buildMean(members()));
    const convs = (m: typeof fused) => m.nodes.filter((n) => n.opType === 'Conv');
    // The first convolution reads the shared input whole (group 1); the trunk's others are grouped by member.
    expect(convs(fused).filter((n) => n.attributes.group === nets.length).length).toBeGreaterThan(8);
    expect(convs(separate).some((n) => n.attributes.group === nets.length)).toBe(false);
    expect(convs(fused).length).toBeLessThan(convs(separate).length / 2);
    // The heads (the 3-channel output convolution, the softmax) stay per member, fed by a Split.
    expect(fused.nodes.filter((n) => n.opType === 'Split').length).toBeGreaterThan(0);
    expect(fused.nodes.filter((n) => n.opType === 'Softmax')).toHaveLength(nets.length);
    const run = async (bytes: Uint8Array) => {
      const model = await createOnnxModel({ modelBytes: bytes, context: nets[0].context, threads: 2 });
      try {
        return await model.predict({ codes, batch, length });
      } finally {
        await model.dispose();
      }
    };
    const a = await run(SpliceGraphBuilder.buildMean(members(), { fuseMembers: true }));
    const b = await run(SpliceGraphBuilder.buildMean(members()));
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-6);
    const want = expected();
    expect(Math.max(...a.map((v, i) => Math.abs(v - want[i])))).toBeLessThan(1e-5);
  });

  it('keeps one branch per member when their trunks differ', async () => {
    // Same context and output, different layers: kernels 5, 3, 5, 3 at dilations 1, 1, 2, 4 against 3, 5, 3, 5 at 1, 2, 4, 1.
    const odd = makeTinyNet(9, [5, 3, 5, 3], [1, 1, 2, 4]);
    expect(odd.context).toBe(nets[0].context);
    const mixed = [...members().slice(0, 2), (({ g, out }) => ({ builder: g, output: out }))(recordTinyNet(odd))];
    const summary = inspectModel(SpliceGraphBuilder.buildMean(mixed, { fuseMembers: true }));
    expect(summary.nodes.some((n) => n.opType === 'Conv' && n.attributes.group === 3)).toBe(false);
    const model = await createOnnxModel({ modelBytes: SpliceGraphBuilder.buildMean(mixed, { fuseMembers: true }), context: odd.context, threads: 1 });
    try {
      const out = await model.predict({ codes, batch, length });
      const n = length - odd.context;
      let worst = 0;
      for (let b = 0; b < batch; b++) {
        const refs = [nets[0], nets[1], odd].map((net) => referenceForward(net, codes.subarray(b * length, (b + 1) * length)));
        for (let i = 0; i < n * 3; i++) worst = Math.max(worst, Math.abs(out[b * n * 3 + i] - (refs[0][i] + refs[1][i] + refs[2][i]) / 3));
      }
      expect(worst).toBeLessThan(1e-5);
    } finally {
      await model.dispose();
    }
  });

  it('refuses networks that do not share an input and an output shape', () => {
    const other = recordTinyNet(makeTinyNet(8));
    expect(() => SpliceGraphBuilder.buildMean([...members(), { builder: other.g, output: other.out }])).toThrow(/networks differ/);
    expect(() => SpliceGraphBuilder.buildMean([])).toThrow(InvalidArgumentError);
  });
});

describe('SpliceGraphBuilder.buildMeans (groups of networks, a block of output channels each)', () => {
  const nets = [makeTinyNet(5, [3, 5, 3, 5], [1, 2, 4, 1]), makeTinyNet(6, [3, 5, 3, 5], [1, 2, 4, 1]), makeTinyNet(7, [3, 5, 3, 5], [1, 2, 4, 1])];
  /** Group 0: P(class 1) of nets 0 and 1; group 1: sigmoid(P(class 2)) of net 2 (as Pangolin's heads pick one channel each). */
  const groups = () => {
    const pick = (net: (typeof nets)[number], channel: number, sigmoid: boolean) => {
      const { g, out } = recordTinyNet(net);
      const picked = g.channels(out, channel);
      return { builder: g, output: sigmoid ? g.sigmoid(picked) : picked };
    };
    return [[pick(nets[0], 1, false), pick(nets[1], 1, false)], [pick(nets[2], 2, true)]];
  };
  const [batch, length] = [2, 90];
  const codes = randomCodes(batch * length, 13);
  const tracks = [
    { name: 'a', kind: 'site-probability', site: 'any' },
    { name: 'b', kind: 'usage', site: 'any' },
  ] as const;

  it('gives each group its mean, side by side, in group order', async () => {
    const bytes = SpliceGraphBuilder.buildMeans(groups());
    const summary = inspectModel(bytes);
    expect(summary.nodes.filter((n) => n.opType === 'Mean')).toHaveLength(2);
    expect(summary.nodes.filter((n) => n.opType === 'Concat')).toHaveLength(1);
    expect(summary.outputs[0].shape[1]).toBe(2);
    const model = await createOnnxModel({ modelBytes: bytes, context: nets[0].context, threads: 1, outputActivation: 'none', tracks });
    try {
      const out = await model.predict({ codes, batch, length });
      const n = length - nets[0].context;
      expect(out.length).toBe(batch * n * 2);
      let worst = 0;
      for (let b = 0; b < batch; b++) {
        const refs = nets.map((net) => referenceForward(net, codes.subarray(b * length, (b + 1) * length)));
        for (let p = 0; p < n; p++) {
          const a = (refs[0][p * 3 + 1] + refs[1][p * 3 + 1]) / 2;
          const s = 1 / (1 + Math.exp(-refs[2][p * 3 + 2]));
          worst = Math.max(worst, Math.abs(out[(b * n + p) * 2] - a), Math.abs(out[(b * n + p) * 2 + 1] - s));
        }
      }
      expect(worst).toBeLessThan(1e-5);
    } finally {
      await model.dispose();
    }
  });

  it('stages the group means, and the chain gives the whole graph', async () => {
    const graphs = SpliceGraphBuilder.buildStagedMeans(groups(), { dist: 2, maxStages: 4 })!;
    const single = buildTinyNetStaged(nets[0], {}, { dist: 2, maxStages: 4 })!;
    expect(graphs.reach).toEqual(single.reach);
    expect(graphs.channels).toEqual(single.channels.map((c) => c * nets.length));
    const model = {
      modelBytes: SpliceGraphBuilder.buildMeans(groups()),
      context: nets[0].context,
      threads: 1,
      outputActivation: 'none',
      tracks,
      stagedGraphs: () => graphs,
    } as const;
    expect((await chainAgainstWhole(model, codes, batch, length)).difference).toBeLessThan(1e-6);
  });

  it('refuses an empty group and a channel range outside the value', () => {
    expect(() => SpliceGraphBuilder.buildMeans([groups()[0], []])).toThrow(/every group needs at least one network/);
    const { g, out } = recordTinyNet(nets[0]);
    expect(() => g.channels(out, 2, 2)).toThrow(InvalidArgumentError);
    expect(g.channels(out, 0, 3)).toBe(out);
  });
});
