import { parse, relative, sep } from 'node:path';
import type { BaseModelAdapter, Device, LoadedModel } from '../adapter/contract.js';
import { resolveModelsDir } from '../config/project.js';
import { type DiscoverOptions, discoverModels } from '../discovery/discover.js';
import type { DiscoveryResult, ModelSet } from '../discovery/model-set.js';
import { AmbiguousModelError, InvalidArgumentError, MetaSpliceAIError, ModelFileError, ModelNotFoundError } from '../errors.js';
import { createEnsemble } from '../inference/ensemble.js';
import { sha256File, trackFields, writeModelInfo } from '../metadata/model-info.js';
import { MODEL_INFO_SCHEMA_VERSION, type ModelInfo } from '../metadata/schema.js';
import { predictCodes } from '../inference/tiling.js';
import { encodeSequence } from '../sequence/encoding.js';
import { CANONICAL_HEALTH_SEQUENCE, checkModelHealth, type HealthCheck } from './health.js';
import { checkAdapter } from './registration.js';
import { parseOptions } from '../config/options.js';
import { loadModelOptionsSchema, modelManagerOptionsSchema, modelQuerySchema } from './options.js';
import { selectByNameAndContext } from './selection.js';
import { describeAvailable, describeMissing, type ValidateOptions, type ValidationReport, validateDiscovery } from './validation.js';
import { verifyModelSet } from './verification.js';

export interface ModelManagerOptions {
  /** The models root; see resolveModelsDir for the defaults. */
  modelsDir?: string;
  cwd?: string;
  /** The default of `LoadModelOptions.strict` for every load (and health check) of this manager. */
  strict?: boolean;
  /** The default of `LoadModelOptions.onWarning`: where loads report files that fail their checks. */
  onWarning?: (message: string) => void;
}

export interface ModelQuery {
  adapter: string;
  context?: number;
  setName?: string;
}

export interface LoadModelOptions extends ModelQuery {
  backend?: string;
  device?: Device;
  threads?: number;
  /** The tracks the caller will read (see `LoadEnsembleOptions.tracks`; default all). */
  tracks?: readonly string[];
  /**
   * Refuse a set whose members differ from their model_info.json (size, sha256, unlisted files)
   * instead of warning. Members model_info.json lists that are missing are refused either way.
   */
  strict?: boolean;
  /** Called with one line per warning, naming the file; the loaded set's `warnings` has them too. */
  onWarning?: (message: string) => void;
}

/** A model set loaded as one ensemble. */
export interface LoadedModelSet {
  set: ModelSet;
  model: LoadedModel;
  license?: string;
  /** The sha256 of each member model_info.json lists, hashed while loading (path to hex). */
  sha256: ReadonlyMap<string, string>;
  /** What the checks against model_info.json found, one line each (empty when all is well). */
  warnings: string[];
  dispose(): Promise<void>;
}

export interface HealthReport {
  adapter: string;
  setName: string;
  context: number;
  backend: string;
  device: Device;
  ok: boolean;
  checks: HealthCheck[];
  /** Warnings of the load (members that differ from model_info.json), one line each. */
  warnings: string[];
  milliseconds: number;
}

export interface IndexOptions {
  /**
   * Only sets under this folder. A folder outside the models root is walked on its own (set names
   * read from its whole path), so `index <set folder>` works whatever the models root is.
   */
  directory?: string;
  /** Also record golden outputs (loads each set and runs the canonical input). */
  golden?: boolean;
  backend?: string;
}

/**
 * The base-model resource manager: adapters are registered explicitly, then the manager finds their
 * files under the models root, groups them into sets, validates, resolves, loads and checks them.
 */
export class ModelManager {
  readonly modelsDir: string;
  private readonly registry = new Map<string, BaseModelAdapter>();
  private discovery?: Promise<DiscoveryResult>;
  private readonly loadDefaults: Pick<LoadModelOptions, 'strict' | 'onWarning'>;

  constructor(options: ModelManagerOptions = {}) {
    this.modelsDir = resolveModelsDir(options);
    this.loadDefaults = { strict: options.strict, onWarning: options.onWarning };
  }

  /** Adds an adapter after checking its shape, spec version and id. Returns the manager. */
  register(adapter: BaseModelAdapter): this {
    checkAdapter(adapter, this.registry);
    this.registry.set(adapter.id, adapter);
    this.discovery = undefined;
    return this;
  }

  get adapters(): BaseModelAdapter[] {
    return [...this.registry.values()];
  }

  adapter(id: string): BaseModelAdapter {
    const adapter = this.registry.get(id);
    if (!adapter) {
      throw new ModelNotFoundError(`no adapter "${id}" is registered; registered: ${[...this.registry.keys()].join(', ') || 'none'}`, {
        hint: 'install and register the adapter package (the CLI takes --adapter <package or path>)',
      });
    }
    return adapter;
  }

  /** Walks the models root (once; `refresh` walks again). */
  discover(options: DiscoverOptions & { refresh?: boolean } = {}): Promise<DiscoveryResult> {
    if (!this.discovery || options.refresh || options.inspect === false) {
      const run = discoverModels(this.modelsDir, this.adapters, options);
      if (options.inspect === false) return run;
      this.discovery = run;
    }
    return this.discovery;
  }

  async validate(options: ValidateOptions = {}): Promise<ValidationReport> {
    if (options.adapter) this.adapter(options.adapter);
    return validateDiscovery(await this.discover(), this.registry, options);
  }

  /**
   * The set for a query. Without a context the largest available is taken (the most accurate
   * model of a family); several set names at that context are ambiguous.
   */
  async resolve(query: ModelQuery): Promise<ModelSet> {
    parseOptions(modelQuerySchema, query, { owner: 'resolve' });
    this.adapter(query.adapter);
    const discovery = await this.discover();
    const ofAdapter = discovery.modelSets.filter((s) => s.adapter === query.adapter);
    const candidates = selectByNameAndContext(
      ofAdapter,
      query,
      (s) => s.name,
      (s) => s.context,
    );
    if (candidates.length === 0) {
      throw new ModelNotFoundError(describeMissing(discovery, query), {
        hint: ofAdapter.length
          ? 'pick one of the available sets with --set and --context'
          : `put the files under ${this.modelsDir}, point --models-dir at them, or run: metaspliceai models pull ${query.adapter}`,
      });
    }
    if (candidates.length > 1) {
      throw new AmbiguousModelError(`${candidates.length} ${query.adapter} sets match: ${describeAvailable(candidates)}`, {
        hint: `choose one with --set (${candidates.map((s) => s.name).join(' or ')})`,
      });
    }
    return candidates[0];
  }

  /** Loads a set as one ensemble (the mean of its members) through its adapter. */
  async load(options: LoadModelOptions): Promise<LoadedModelSet> {
    parseOptions(loadModelOptionsSchema, options, { owner: 'load' });
    return this.loadSet(await this.resolve(options), options);
  }

  /** Loads a resolved set; `verify: false` skips the model_info.json checks (index rewrites it). */
  private async loadSet(set: ModelSet, options: Omit<LoadModelOptions, 'adapter'>, verify = true): Promise<LoadedModelSet> {
    const adapter = this.adapter(set.adapter);
    const broken = set.members.find((m) => m.error);
    if (broken) throw new ModelFileError(broken.path, `cannot load: ${broken.error!.message}`, { hint: 'run: metaspliceai models validate' });
    if (options.device && !adapter.capabilities.devices.includes(options.device)) {
      throw new InvalidArgumentError(`${adapter.displayName} does not run on ${options.device}; it runs on ${adapter.capabilities.devices.join(', ')}`);
    }
    if (options.backend && options.backend !== 'auto' && !adapter.capabilities.backends.includes(options.backend)) {
      throw new InvalidArgumentError(
        `${adapter.displayName} has no backend "${options.backend}"; choose one of ${['auto', ...adapter.capabilities.backends].join(', ')}`,
      );
    }
    // Before any weights load: a set runs only on the files its model_info.json records.
    const { sha256, warnings } = !verify
      ? { sha256: new Map<string, string>(), warnings: [] }
      : await verifyModelSet(set, {
          strict: options.strict ?? this.loadDefaults.strict,
          onWarning: options.onWarning ?? this.loadDefaults.onWarning,
          published: adapter.catalogue?.find((k) => k.setName === set.name && k.context === set.context),
        });
    const shared = { context: set.context, backend: options.backend, device: options.device, threads: options.threads };
    const joint = await adapter.loadEnsemble?.({ ...shared, files: set.members.map((m) => m.path), tracks: options.tracks });
    if (joint) {
      const model = createEnsemble([joint]);
      return { set, model, license: set.license, sha256, warnings, dispose: () => model.dispose() };
    }
    if (adapter.ensemble === 'adapter') {
      throw new InvalidArgumentError(
        `${adapter.displayName} cannot load set ${set.name} (${set.members.length} files) on ${options.backend ?? 'auto'}/${options.device ?? 'cpu'}: only the adapter can combine its members, and it declined`,
        {
          hint: 'check that the set is complete (metaspliceai models validate) and try the default backend and device',
        },
      );
    }
    // Members load concurrently: runtimes build sessions off the main thread.
    const loads = await Promise.allSettled(set.members.map((m) => adapter.load({ ...shared, file: m.path })));
    const members = loads.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = loads.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(members.map((m) => m.dispose()));
      throw failed.reason;
    }
    const model = createEnsemble(members);
    return { set, model, license: set.license, sha256, warnings, dispose: () => model.dispose() };
  }

  /** Loads a set, runs the canonical input, and reports shape, range, normalisation and golden checks. */
  async health(options: LoadModelOptions): Promise<HealthReport> {
    const started = performance.now();
    const set = await this.resolve(options);
    const base = { adapter: set.adapter, setName: set.name, context: set.context };
    let loaded: LoadedModelSet;
    try {
      loaded = await this.load({ ...options, adapter: set.adapter, setName: set.name, context: set.context });
    } catch (error) {
      const message = MetaSpliceAIError.isInstance(error) ? error.message : String(error);
      return {
        ...base,
        backend: options.backend ?? 'auto',
        device: options.device ?? 'cpu',
        ok: false,
        checks: [{ name: 'load', ok: false, message }],
        warnings: [],
        milliseconds: performance.now() - started,
      };
    }
    try {
      const checks: HealthCheck[] = [{ name: 'load', ok: true, message: `${set.members.length} member(s) loaded` }];
      checks.push(...(await checkModelHealth(loaded.model, set.metadata?.golden)));
      return {
        ...base,
        backend: loaded.model.backend,
        device: loaded.model.device,
        ok: checks.every((c) => c.ok),
        checks,
        warnings: loaded.warnings,
        milliseconds: performance.now() - started,
      };
    } finally {
      await loaded.dispose();
    }
  }

  /** Writes `metadata/model_info.json` for every set (under `directory`), with sha256 of each member. */
  async index(options: IndexOptions = {}): Promise<{ set: ModelSet; path: string; info: ModelInfo }[]> {
    const under = options.directory;
    const outside = under !== undefined && !isInside(this.modelsDir, under);
    const discovery = outside ? await discoverModels(under, this.adapters, { namesFrom: parse(under).root }) : await this.discover({ refresh: true });
    const written: { set: ModelSet; path: string; info: ModelInfo }[] = [];
    for (const set of discovery.modelSets) {
      if (under && !isInside(under, set.directory)) continue;
      const adapter = this.adapter(set.adapter);
      const broken = set.members.find((m) => m.error);
      if (broken) throw new ModelFileError(broken.path, `not indexed: ${broken.error!.message}`, { hint: 'fix or remove the file, then index again' });
      const files = [];
      for (const m of set.members) {
        files.push({ path: relative(set.directory, m.path).split(sep).join('/'), sha256: await sha256File(m.path), size: m.size, memberId: m.memberId });
      }
      const published = adapter.catalogue?.find((k) => k.setName === set.name && k.context === set.context);
      const previous = set.metadata;
      let info: ModelInfo = {
        ...previous,
        ...adapter.describeSet?.({ name: set.name, context: set.context, memberIds: set.members.map((m) => m.memberId) }),
        schemaVersion: MODEL_INFO_SCHEMA_VERSION,
        adapter: set.adapter,
        setName: set.name,
        context: set.context,
        ...trackFields(adapter),
        files,
        source: previous?.source ?? (published ? { url: published.sourceUrl } : undefined),
        license: previous?.license ?? published?.license ?? adapter.defaultLicense,
        citation: previous?.citation ?? published?.citation,
        createdBy: '@metaspliceai/core index',
      };
      if (options.golden) {
        const loaded = await this.loadSet(set, { backend: options.backend }, false);
        try {
          info = { ...info, golden: await goldenFor(loaded.model) };
        } finally {
          await loaded.dispose();
        }
      }
      await writeModelInfo(set.metadataPath, info, adapter.metadataSchema);
      written.push({ set, path: set.metadataPath, info });
    }
    this.discovery = undefined;
    return written;
  }
}

async function goldenFor(model: LoadedModel): Promise<NonNullable<ModelInfo['golden']>> {
  const out = await predictCodes(model, encodeSequence(CANONICAL_HEALTH_SEQUENCE));
  const width = model.tracks.length;
  const outputs: number[][] = [];
  for (let p = 0; p < out.length; p += width) outputs.push(Array.from(out.subarray(p, p + width), (v) => Number(v.toPrecision(7))));
  return { sequence: CANONICAL_HEALTH_SEQUENCE, tracks: model.tracks.map((t) => t.name), outputs, tolerance: 1e-4 };
}

function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep));
}

/** Creates a manager; register adapters on it before discovering. */
export function createModelManager(options: ModelManagerOptions = {}): ModelManager {
  parseOptions(modelManagerOptionsSchema, options, { owner: 'createModelManager' });
  return new ModelManager(options);
}
