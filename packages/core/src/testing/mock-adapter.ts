import { promises as fs } from 'node:fs';
import {
  type BaseModelAdapter,
  InvalidArgumentError,
  type LoadedModel,
  ModelFileError,
  type PredictBatch,
  type StagedNetwork,
  type StageTensor,
  modelInfoSchema,
  SPECIFICATION_VERSION,
  SPLICE_CLASS_TRACKS,
} from '../index.js';

/**
 * A tiny adapter for tests of code built on core (CLIs, pipelines, the kit itself): `<set>/<name>_<context>.mock` files holding JSON `{"context": N}`.
 * Its "model" scores a position by the share of A (acceptor) and G (donor) within context/2 of it,
 * so tiling mistakes change the numbers.
 */
export function createMockAdapter(overrides: Partial<BaseModelAdapter> = {}): BaseModelAdapter {
  async function readContext(file: string): Promise<number> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (cause) {
      throw new ModelFileError(file, 'cannot be read', { cause });
    }
    try {
      const { context } = JSON.parse(text) as { context: number };
      if (!Number.isInteger(context) || context < 2 || context % 2) throw new Error('bad context');
      return context;
    } catch (cause) {
      throw new ModelFileError(file, 'is not a mock model (expected JSON {"context": even integer})', { cause });
    }
  }
  return {
    specificationVersion: SPECIFICATION_VERSION,
    id: 'mock',
    displayName: 'Mock',
    capabilities: { devices: ['cpu'], backends: ['js'], contexts: [4, 8, 80], maxBatchSize: 64 },
    filePatterns: [/\.mock$/],
    ensemble: 'mean',
    scoring: { defaultRule: 'spliceai', variantEncoding: 'acgt' },
    metadataSchema: modelInfoSchema,
    defaultLicense: 'CC0-1.0',
    parsePath(relativePath) {
      const parts = relativePath.split('/');
      const base = parts[parts.length - 1].replace(/\.mock$/, '');
      const hint = /_(\d+)$/.exec(base);
      return { setName: parts.length > 1 ? parts[parts.length - 2] : 'mock', memberId: base, context: hint ? Number(hint[1]) : undefined };
    },
    async inspect(file) {
      const context = await readContext(file);
      return { context, architecture: `window counter (${context})`, parameterCount: 1, format: 'mock-json' };
    },
    async load({ file }) {
      const context = await readContext(file);
      return mockModel(context);
    },
    ...overrides,
  };
}

/** Reference scoring of one position, used both by the mock model and by tests. */
export function mockScore(codes: Uint8Array, i: number, context: number): [number, number, number] {
  const half = context / 2;
  let a = 0;
  let g = 0;
  for (let j = i - half; j <= i + half; j++) {
    const c = j >= 0 && j < codes.length ? codes[j] : 0;
    if (c === 1) a++;
    if (c === 3) g++;
  }
  const acc = (0.5 * a) / (context + 1);
  const don = (0.5 * g) / (context + 1);
  return [1 - acc - don, acc, don];
}

export function mockModel(context: number, bias = 0): LoadedModel {
  return {
    context,
    tracks: SPLICE_CLASS_TRACKS,
    backend: 'js',
    device: 'cpu',
    async predict({ codes, batch, length }) {
      const outputs = length - context;
      const out = new Float32Array(batch * outputs * 3);
      for (let b = 0; b < batch; b++) {
        const row = codes.subarray(b * length, (b + 1) * length);
        for (let i = 0; i < outputs; i++) {
          const s = mockScore(row, i + context / 2, context);
          out.set([s[0] - bias, s[1] + bias, s[2]], (b * outputs + i) * 3);
        }
      }
      return out;
    },
    async dispose() {},
  };
}

/**
 * A small staged network in plain JS (context `2 * sum(reach)`): stage k is an unpadded
 * convolution of width `2 * reach[k] + 1` followed by tanh, the last ends in a softmax over 3
 * classes. `predict` chains the stages, so a scorer that recomputes only what changed must give
 * exactly the numbers of whole windows.
 */
export function mockStagedModel(reach: readonly number[], channels = 3, seed = 7): LoadedModel {
  if (reach.length < 2 || reach.some((r) => !Number.isInteger(r) || r < 1)) throw new InvalidArgumentError('mockStagedModel: at least two positive reaches');
  let state = seed >>> 0;
  const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;
  const widths = reach.map((_, k) => (k === reach.length - 1 ? 3 : channels));
  const weights = reach.map((r, k) => {
    const inC = k === 0 ? 4 : channels;
    return {
      inC,
      outC: widths[k],
      span: 2 * r + 1,
      w: Float64Array.from({ length: widths[k] * inC * (2 * r + 1) }, () => random() * 1.5),
      b: Float64Array.from({ length: widths[k] }, random),
    };
  });
  const apply = (k: number, input: StageTensor): StageTensor => {
    const { inC, outC, span, w, b } = weights[k];
    if (input.channels !== inC) throw new InvalidArgumentError(`mock stage ${k} takes ${inC} channels, got ${input.channels}`);
    const length = input.length - span + 1;
    const data = new Float32Array(input.batch * outC * length);
    for (let n = 0; n < input.batch; n++) {
      for (let o = 0; o < outC; o++) {
        for (let j = 0; j < length; j++) {
          let sum = b[o];
          for (let c = 0; c < inC; c++) {
            const row = (n * inC + c) * input.length + j;
            for (let t = 0; t < span; t++) sum += w[(o * inC + c) * span + t] * input.data[row + t];
          }
          data[(n * outC + o) * length + j] = k === reach.length - 1 ? sum : Math.tanh(sum);
        }
      }
    }
    return { data, batch: input.batch, channels: outC, length };
  };
  const oneHot = ({ codes, batch, length }: PredictBatch): StageTensor => {
    const data = new Float32Array(batch * 4 * length);
    for (let n = 0; n < batch; n++) {
      for (let j = 0; j < length; j++) {
        const c = codes[n * length + j];
        if (c >= 1 && c <= 4) data[(n * 4 + c - 1) * length + j] = 1;
      }
    }
    return { data, batch, channels: 4, length };
  };
  const rows = (logits: StageTensor): Float32Array => {
    const out = new Float32Array(logits.batch * logits.length * 3);
    for (let n = 0; n < logits.batch; n++) {
      for (let j = 0; j < logits.length; j++) {
        const v = [0, 1, 2].map((c) => logits.data[(n * 3 + c) * logits.length + j]);
        const max = Math.max(...v);
        const e = v.map((x) => Math.exp(x - max));
        const sum = e[0] + e[1] + e[2];
        out.set(
          e.map((x) => x / sum),
          (n * logits.length + j) * 3,
        );
      }
    }
    return out;
  };
  const last = reach.length - 1;
  const stages: StagedNetwork = {
    reach,
    channels: widths.slice(0, last),
    runFirst: async (batch) => apply(0, oneHot(batch)),
    runMiddle: async (k, input) => {
      if (k < 1 || k >= last) throw new InvalidArgumentError(`mock runMiddle: stage ${k} is not a middle stage`);
      return apply(k, input);
    },
    runLast: async (input) => rows(apply(last, input)),
  };
  return {
    context: 2 * reach.reduce((a, b) => a + b, 0),
    tracks: SPLICE_CLASS_TRACKS,
    backend: 'js',
    device: 'cpu',
    stages,
    async predict(batch) {
      let x = apply(0, oneHot(batch));
      for (let k = 1; k <= last; k++) x = apply(k, x);
      return rows(x);
    },
    async dispose() {},
  };
}
