/**
 * Runs SpliceAI-family ONNX models with onnxruntime-node behind core's `LoadedModel` contract:
 * nucleotide codes in, `(batch, length - context, 3)` probabilities out. Works for graphs from
 * `SpliceGraphBuilder` and for `.onnx` files users bring.
 *
 * Note: onnxruntime-node's `session.run()` blocks the event loop while it computes; callers that
 * must stay responsive should run models in a worker thread.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import {
  DeviceUnavailableError,
  InvalidArgumentError,
  ModelFileError,
  type Device,
  type LoadedModel,
  type OutputTrack,
  type PredictBatch,
  SPLICE_CLASS_TRACKS,
  type StagedNetwork,
} from '@metaspliceai/core';
import { type InputLayout, type TensorLayout, inputLayoutFromShape, lengthAxis, oneHotFor, outputLayoutFromDims, toPositionRows } from './layout.js';
import { refuseUnsafeExternalData } from './inspect-file.js';
import { type OnnxModelSummary, OnnxDataType, inspectModel } from './onnx-proto.js';
import { type OrtModule, type OrtSession, loadOnnxRuntime } from './runtime.js';
import type { StagedGraphs } from './graph-builder.js';
import { StagedOnnxNetwork } from './staged.js';
import { type ExecutionProvider, gpuRequirements, gpuSettled, providerMissing, providerServed, providersFor, providersUnavailable } from './providers.js';

/** Options shared by in-memory and file models. */
export interface OnnxSessionOptions {
  /** Total flank of the model: each output position sees `context / 2` inputs on either side. */
  context: number;
  /**
   * `cpu` (default) or `gpu`: CUDA where onnxruntime-node was installed with it, else WebGPU (see
   * `providersFor`).
   */
  device?: Device;
  /** Intra-op threads; default `os.availableParallelism()`. */
  threads?: number;
  /**
   * Give this model's sessions onnxruntime's memory arena (default false). An arena keeps the
   * session's peak working memory for reuse: faster, and the heap does not fragment as a long input
   * runs, but each session holds its own, so it pays for a session that runs a whole ensemble
   * (`SpliceGraphBuilder.buildMean`), not for one session per member.
   */
  memoryArena?: boolean;
  /** What `LoadedModel.backend` reports (default `onnx`). */
  backendLabel?: string;
  /** Input layout, when the model's declared input shape does not tell (see `InputLayout`). */
  inputLayout?: InputLayout;
  /**
   * The same network as stage graphs (`SpliceGraphBuilder.buildStaged`), built on first use of
   * `stages`; their sessions open on first run.
   */
  stagedGraphs?: () => StagedGraphs | undefined;
  /**
   * Whether to apply a softmax over the 3 classes to the model's output. `auto` (default) applies one
   * unless the graph's output comes from a Softmax (or Sigmoid), looking through reshapes and slices.
   */
  outputActivation?: 'auto' | 'softmax' | 'none';
  /** What `LoadedModel.tracks` declares (default: neither, acceptor, donor). */
  tracks?: readonly OutputTrack[];
}

/** Options of `createOnnxModel`. */
export interface CreateOnnxModelOptions extends OnnxSessionOptions {
  /** A serialized `ModelProto`, e.g. from `SpliceGraphBuilder.build`. */
  modelBytes: Uint8Array;
  /** The file the graph was built from, named in errors (default `<in-memory ONNX model>`). */
  source?: string;
}

/** A `LoadedModel` with what was learned about the ONNX graph's interface. */
export interface OnnxLoadedModel extends LoadedModel {
  readonly inputName: string;
  readonly outputName: string;
  readonly inputLayout: InputLayout;
  /** Set when the graph fixes the batch size (a model exported without dynamic axes). */
  readonly fixedBatch?: number;
  /** Set when the graph fixes the input length; `predict` then takes only tiles of this length. */
  readonly fixedLength?: number;
  /** Whether `predict` applies a softmax to the graph's output. */
  readonly appliesSoftmax: boolean;
  readonly threads: number;
  /** The onnxruntime execution provider the model runs on: `cpu`, or for `gpu` `cuda` or `webgpu`. */
  readonly executionProvider: ExecutionProvider;
}

/** Operators that only move or select values, looked through when finding what produced the output. */
const SHAPE_OPS = new Set(['Transpose', 'Reshape', 'Squeeze', 'Unsqueeze', 'Slice', 'Identity', 'Flatten', 'Cast']);

/**
 * Creates a model from ONNX bytes held in memory (the adapters build them from `.h5` / `.pt` weights
 * with `SpliceGraphBuilder`). Throws `RuntimeMissingError` without onnxruntime-node,
 * `DeviceUnavailableError` when `device: 'gpu'` cannot be served, `ModelFileError` (naming `source`)
 * when onnxruntime rejects the graph.
 */
export async function createOnnxModel(options: CreateOnnxModelOptions): Promise<OnnxLoadedModel> {
  const source = options.source ?? '<in-memory ONNX model>';
  return openModel(options.modelBytes, options.modelBytes, source, options);
}

/**
 * Creates a model from a `.onnx` file a user brings, e.g. an OpenSpliceAI model exported with
 * `torch.onnx.export`. Accepted interfaces: one float32 input shaped `(N, 4, L)` (channels-first,
 * PyTorch Conv1d exports), `(N, L, 4)` (channels-last, TensorFlow exports) or `(N, 4, 1, L)`; the
 * first float32 output shaped `(N, 3, L')`, `(N, L', 3)`, `(N, 3, 1, L')` or `(N, 1, L', 3)`, where
 * `L' = L - context` (cropped inside the graph) or `L' = L` (cropped here). Fixed batch or length
 * dims are honoured. Anything else is a `ModelFileError` naming the file. Weights stored as external
 * data next to the file are found (the session opens the path).
 */
export async function createOnnxModelFromFile(path: string, options: OnnxSessionOptions): Promise<OnnxLoadedModel> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ModelFileError(path, `cannot read the file (${(error as Error).message})`, { cause: error });
  }
  return openModel(path, bytes, path, options);
}

async function openModel(sessionSource: string | Uint8Array, bytes: Uint8Array, source: string, options: OnnxSessionOptions): Promise<OnnxLoadedModel> {
  const device = options.device ?? 'cpu';
  if (device !== 'cpu' && device !== 'gpu') throw new InvalidArgumentError(`device must be 'cpu' or 'gpu', got '${String(device)}'`);
  if (!Number.isInteger(options.context) || options.context < 0 || options.context % 2 !== 0) {
    throw new InvalidArgumentError(`context must be an even non-negative integer, got ${options.context}`);
  }
  const threads = options.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) throw new InvalidArgumentError(`threads must be a positive integer, got ${threads}`);

  let summary: OnnxModelSummary;
  try {
    summary = inspectModel(bytes);
  } catch (error) {
    throw new ModelFileError(source, `not a readable ONNX model (${(error as Error).message})`, { cause: error });
  }
  refuseUnsafeExternalData(source, summary);
  const io = describeInterface(summary, source, options);

  const ort = await loadOnnxRuntime();
  const settings: SessionSettings = { device, threads, memoryArena: options.memoryArena ?? false };
  const { session, provider } = await createSession(ort, sessionSource, source, settings);
  const staging: Staging = { graphs: options.stagedGraphs, open: async (bytes) => (await createSession(ort, bytes, source, settings)).session };
  const model = new OrtSpliceModel(ort, session, provider, source, options.context, device, threads, options.backendLabel ?? 'onnx', io, staging);
  model.tracks = options.tracks ?? SPLICE_CLASS_TRACKS;
  return model;
}

/** An onnxruntime session with this package's settings, and the provider it runs on. */
interface OpenedSession {
  session: OrtSession;
  provider: ExecutionProvider;
}

interface SessionSettings {
  device: Device;
  threads: number;
  memoryArena: boolean;
}

/**
 * Opens a session on the first execution provider for `device` that can run here (see
 * `providersFor`); load failures become typed errors.
 */
async function createSession(ort: OrtModule, sessionSource: string | Uint8Array, source: string, settings: SessionSettings): Promise<OpenedSession> {
  if (settings.device === 'cpu' || gpuSettled()) return openOnFirstProvider(ort, sessionSource, source, settings);
  // Until one GPU session has opened, open them one at a time: an ensemble opens its members at
  // once, and each would probe (and log) every unavailable provider.
  const turn = gpuProbes.then(() => openOnFirstProvider(ort, sessionSource, source, settings));
  gpuProbes = turn.catch(() => undefined);
  return turn;
}

let gpuProbes: Promise<unknown> = Promise.resolve();

async function openOnFirstProvider(
  ort: OrtModule,
  sessionSource: string | Uint8Array,
  source: string,
  { device, threads, memoryArena }: SessionSettings,
): Promise<OpenedSession> {
  const unavailable: string[] = [];
  for (const provider of providersFor(device)) {
    const sessionOptions = {
      executionProviders: [provider],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // Without an arena, tensors come from malloc; with one, a fixed plan per input shape is no
      // use to a session whose peak the arena already keeps (measured: 5-member graph, 40000-nt
      // tiles, 320 MB and +6% speed against 434 MB).
      enableCpuMemArena: memoryArena,
      enableMemPattern: !memoryArena,
      logSeverityLevel: 3,
      // Idle threads must not spin: an ensemble holds a session per member (and per stage), and
      // the spinning pools of idle sessions took cores from the running one (measured: variant
      // scoring 7 -> 11 variants/s, ensemble prediction +6%, on 2 cores).
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    } as const;
    try {
      const session =
        typeof sessionSource === 'string'
          ? await ort.InferenceSession.create(sessionSource, sessionOptions)
          : await ort.InferenceSession.create(sessionSource, sessionOptions);
      if (device === 'gpu') providerServed(provider);
      return { session, provider };
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      if (device === 'gpu' && providerMissing(provider, message)) {
        unavailable.push(`${provider}: ${firstLine(message)}`);
        continue;
      }
      throw new ModelFileError(source, `onnxruntime could not load the model (${firstLine(message)})`, { cause: error });
    }
  }
  const error = new DeviceUnavailableError(`no GPU execution provider of onnxruntime-node can run here (${unavailable.join('; ')})`, {
    hint: `${gpuRequirements()}; or run with --device cpu`,
  });
  providersUnavailable(error);
  throw error;
}

interface Staging {
  graphs?: () => StagedGraphs | undefined;
  open(bytes: Uint8Array): Promise<OrtSession>;
}

interface ModelInterface {
  inputName: string;
  outputName: string;
  inputLayout: InputLayout;
  fixedBatch?: number;
  fixedLength?: number;
  appliesSoftmax: boolean;
}

/** Reads the graph's input/output names, layout, fixed dims and final activation. */
function describeInterface(summary: OnnxModelSummary, source: string, options: OnnxSessionOptions): ModelInterface {
  const fail = (message: string): never => {
    throw new ModelFileError(source, message, {
      hint: 'expected one float32 input shaped (N, 4, L), (N, L, 4) or (N, 4, 1, L) and a float32 output with 3 classes',
    });
  };
  if (summary.inputs.length !== 1) fail(`expected one graph input, found ${summary.inputs.length} (${summary.inputs.map((i) => i.name).join(', ')})`);
  const input = summary.inputs[0];
  if (input.elemType !== OnnxDataType.FLOAT) fail(`input '${input.name}' is not float32 (ONNX type ${input.elemType})`);
  const inputLayout = options.inputLayout ?? inputLayoutFromShape(input.shape);
  if (!inputLayout) {
    fail(`cannot tell the layout of input '${input.name}' shaped [${input.shape.join(', ')}]; pass inputLayout ('NCL', 'NLC' or 'NC1L')`);
  }
  const rank = inputLayout === 'NC1L' ? 4 : 3;
  if (input.shape.length !== 0 && input.shape.length !== rank)
    fail(`input '${input.name}' has rank ${input.shape.length}, layout ${inputLayout} needs ${rank}`);
  const fixed = (d: number | string | undefined): number | undefined => (typeof d === 'number' && d > 0 ? d : undefined);

  const output = summary.outputs.find((o) => o.elemType === OnnxDataType.FLOAT || o.elemType === 0);
  if (!output) fail(`no float32 graph output (outputs: ${summary.outputs.map((o) => o.name).join(', ') || 'none'})`);

  let appliesSoftmax = options.outputActivation === 'softmax';
  if ((options.outputActivation ?? 'auto') === 'auto') {
    const producerOf = new Map(summary.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
    // A hostile graph can loop (a Reshape fed by its own output): no walk visits more nodes than exist.
    let budget = summary.nodes.length;
    const isProbability = (name: string): boolean => {
      let node = producerOf.get(name);
      while (node && SHAPE_OPS.has(node.opType) && budget-- > 0) node = producerOf.get(node.inputs[0]);
      if (!node || budget-- <= 0) return false;
      // The mean of probabilities (an ensemble graph, `SpliceGraphBuilder.buildMean`) is one too.
      if (node.opType === 'Mean') return node.inputs.length > 0 && node.inputs.every(isProbability);
      return node.opType === 'Softmax' || node.opType === 'Sigmoid';
    };
    appliesSoftmax = !isProbability(output!.name);
  }
  return {
    inputName: input.name,
    outputName: output!.name,
    inputLayout: inputLayout!,
    fixedBatch: fixed(input.shape[0]),
    fixedLength: fixed(input.shape[lengthAxis(inputLayout!)]),
    appliesSoftmax,
  };
}

class OrtSpliceModel implements OnnxLoadedModel {
  tracks: readonly OutputTrack[] = SPLICE_CLASS_TRACKS;
  readonly inputName: string;
  readonly outputName: string;
  readonly inputLayout: InputLayout;
  readonly fixedBatch?: number;
  readonly fixedLength?: number;
  readonly appliesSoftmax: boolean;
  private outputLayout?: TensorLayout;
  private disposed = false;
  private staged?: StagedOnnxNetwork | null;

  constructor(
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
    readonly executionProvider: ExecutionProvider,
    private readonly source: string,
    readonly context: number,
    readonly device: Device,
    readonly threads: number,
    readonly backend: string,
    io: ModelInterface,
    private readonly staging: Staging,
  ) {
    this.inputName = io.inputName;
    this.outputName = io.outputName;
    this.inputLayout = io.inputLayout;
    this.fixedBatch = io.fixedBatch;
    this.fixedLength = io.fixedLength;
    this.appliesSoftmax = io.appliesSoftmax;
  }

  /** The stage graphs, built on first access; undefined when the graph has no useful cut. */
  get stages(): StagedNetwork | undefined {
    if (this.staged === undefined) {
      const graphs = this.disposed ? undefined : this.staging.graphs?.();
      this.staged = graphs ? new StagedOnnxNetwork(this.ort, graphs, this.staging.open, this.appliesSoftmax) : null;
    }
    return this.staged ?? undefined;
  }

  async predict({ codes, batch, length }: PredictBatch): Promise<Float32Array> {
    if (this.disposed) throw new InvalidArgumentError(`${this.source}: predict called after dispose`);
    if (!Number.isInteger(batch) || batch < 1) throw new InvalidArgumentError(`batch must be a positive integer, got ${batch}`);
    if (!Number.isInteger(length) || length <= this.context) {
      throw new InvalidArgumentError(`tile length must be an integer above the context (${this.context}), got ${length}`);
    }
    if (codes.length !== batch * length) throw new InvalidArgumentError(`codes hold ${codes.length} values, batch x length is ${batch * length}`);
    if (this.fixedLength !== undefined && length !== this.fixedLength) {
      throw new InvalidArgumentError(`${this.source} takes tiles of exactly ${this.fixedLength} nt, got ${length}`, {
        hint: `use a tile length of ${this.fixedLength}, or re-export the model with a dynamic length axis`,
      });
    }
    if (this.fixedBatch === undefined || this.fixedBatch === batch) return this.run(codes, batch, length);
    if (this.fixedBatch !== 1) {
      throw new InvalidArgumentError(`${this.source} takes batches of exactly ${this.fixedBatch}, got ${batch}`);
    }
    const count = length - this.context;
    const tracks = this.tracks.length;
    const out = new Float32Array(batch * count * tracks);
    for (let b = 0; b < batch; b++) {
      out.set(await this.run(codes.subarray(b * length, (b + 1) * length), 1, length), b * count * tracks);
    }
    return out;
  }

  private async run(codes: Uint8Array, batch: number, length: number): Promise<Float32Array> {
    const data = oneHotFor(this.inputLayout, codes, batch, length);
    const dims = this.inputLayout === 'NC1L' ? [batch, 4, 1, length] : this.inputLayout === 'NCL' ? [batch, 4, length] : [batch, length, 4];
    const feeds = { [this.inputName]: new this.ort.Tensor('float32', data, dims) };
    const results = await this.session.run(feeds, [this.outputName]);
    const output = results[this.outputName] as { type: string; dims: readonly number[]; data: unknown };
    if (output.type !== 'float32' || !(output.data instanceof Float32Array)) {
      throw new ModelFileError(this.source, `output '${this.outputName}' is ${output.type}, expected float32`);
    }
    const tracks = this.tracks.length;
    const found = outputLayoutFromDims(output.dims, tracks, this.inputLayout !== 'NLC');
    if (!found || output.dims[0] !== batch || (this.outputLayout && found.layout !== this.outputLayout)) {
      throw new ModelFileError(
        this.source,
        `output '${this.outputName}' has shape [${output.dims.join(', ')}] for a batch of ${batch}; expected ${batch} rows of ${tracks} tracks`,
      );
    }
    this.outputLayout = found.layout;
    const count = length - this.context;
    let start: number;
    if (found.length === count) start = 0;
    else if (found.length === length)
      start = this.context / 2; // the graph does not crop its flanks
    else {
      throw new ModelFileError(
        this.source,
        `output length ${found.length} for input length ${length}: expected ${count} (input - context ${this.context}) or ${length}`,
        { hint: 'check the context this model was registered with' },
      );
    }
    return toPositionRows(output.data, found.layout, batch, tracks, found.length, start, count, this.appliesSoftmax);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.all([this.session.release(), this.staged?.dispose()]);
  }
}

function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

function firstLine(message: string): string {
  // onnxruntime appends its own coloured log lines, and may prefix a failed check's source
  // location ("/onnxruntime_src/...cc:136 ... was false. "); keep the first sentence that says why.
  const line = message.split('\n')[0].replace(/\u001b\[[0-9;]*m/g, '');
  return line.replace(/^\/onnxruntime_src\/\S+ .*? was false\. /, '').slice(0, 300);
}
