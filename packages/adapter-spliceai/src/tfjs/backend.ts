import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DeviceUnavailableError, RuntimeMissingError, type Device } from '@metaspliceai/core';

/** The TensorFlow.js ops namespace; tfjs-node re-exports the same API, so one type covers both. */
export type Tf = typeof import('@tensorflow/tfjs-core');

/** Which TensorFlow.js flavour a model runs on; also its `LoadedModel.backend` label. */
export type TfjsBackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'tfjs-wasm';

/** A TensorFlow.js namespace with its backend chosen and initialised. */
export interface TfjsRuntime {
  tf: Tf;
  backend: TfjsBackendName;
  /** The name TensorFlow.js registered the backend under (`tensorflow` or `wasm`). */
  engineBackend: string;
  device: Device;
}

/** How to pick a runtime: `auto` prefers tfjs-node (native, fast) and falls back to wasm. */
export interface TfjsRuntimeOptions {
  device?: Device;
  /** Intra-op threads; tfjs-node reads it once, before its first load (wasm in Node is single-threaded). */
  threads?: number;
  prefer?: 'auto' | 'node' | 'wasm';
}

const PACKAGES = {
  core: '@tensorflow/tfjs-core',
  wasm: '@tensorflow/tfjs-backend-wasm',
  node: '@tensorflow/tfjs-node',
  nodeGpu: '@tensorflow/tfjs-node-gpu',
} as const;

const PURPOSE = 'Running SpliceAI models with TensorFlow.js';

const requireHere = createRequire(import.meta.url);

/** Where a package would load from, or undefined when it is not installed next to this adapter. */
function resolvePackage(name: string): string | undefined {
  try {
    return requireHere.resolve(name);
  } catch {
    return undefined;
  }
}

/**
 * Imports an optional package. The specifier is a variable so bundlers and the type checker leave
 * it alone: the package is an optional peer and may be absent. Any failure (absent, or a native
 * binary that will not load) means "not available"; the reason is kept for `detectTfjsBackends`.
 */
async function tryImport(name: string): Promise<{ module?: Record<string, unknown>; error?: string }> {
  try {
    const module = (await import(name)) as Record<string, unknown>;
    return { module };
  } catch (error) {
    return { error: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
}

/** A CommonJS package imported from ESM may hide its API under `default`. */
function namespaceOf(module: Record<string, unknown>): Tf {
  const fallback = module.default as Record<string, unknown> | undefined;
  return (typeof module.tensor === 'function' ? module : (fallback ?? module)) as unknown as Tf;
}

/** What a health check reports: which TensorFlow.js backends this installation can use, and why not. */
export interface TfjsBackendReport {
  node: boolean;
  nodeGpu: boolean;
  wasm: boolean;
  details: string[];
}

/**
 * Reports which TensorFlow.js backends can load here, without running a model. tfjs-node and
 * tfjs-node-gpu are imported only when installed (importing them is the only sure test that their
 * native library loads); the wasm backend is checked for its package and its `.wasm` binary.
 */
export async function detectTfjsBackends(): Promise<TfjsBackendReport> {
  const details: string[] = [];
  const probe = async (name: string): Promise<boolean> => {
    if (resolvePackage(name) === undefined) {
      details.push(`${name}: not installed`);
      return false;
    }
    const { error } = await tryImport(name);
    details.push(error === undefined ? `${name}: loads` : `${name}: installed but failed to load (${error})`);
    return error === undefined;
  };
  const core = resolvePackage(PACKAGES.core) !== undefined;
  if (!core) details.push(`${PACKAGES.core}: not installed (needed by the wasm backend)`);
  const nodeGpu = await probe(PACKAGES.nodeGpu);
  const node = await probe(PACKAGES.node);
  let wasm = false;
  const wasmEntry = resolvePackage(PACKAGES.wasm);
  if (wasmEntry === undefined) {
    details.push(`${PACKAGES.wasm}: not installed`);
  } else {
    const binary = path.join(path.dirname(wasmEntry), 'tfjs-backend-wasm-simd.wasm');
    wasm = core && existsSync(binary);
    details.push(
      wasm
        ? `${PACKAGES.wasm}: available (single-threaded in Node; ${path.dirname(wasmEntry)})`
        : `${PACKAGES.wasm}: installed but ${core ? `its binary ${binary} is missing` : `${PACKAGES.core} is not`}`,
    );
  }
  return { node, nodeGpu, wasm, details };
}

const runtimes = new Map<TfjsBackendName, Promise<TfjsRuntime>>();

/**
 * Picks and initialises a TensorFlow.js backend, once per flavour per process (TensorFlow.js keeps
 * one global engine). Order: tfjs-node-gpu when a GPU is asked for, else tfjs-node, else
 * tfjs-core + tfjs-backend-wasm. A missing runtime is a typed error naming the package to install.
 */
export async function loadTfjsRuntime(options: TfjsRuntimeOptions = {}): Promise<TfjsRuntime> {
  const device = options.device ?? 'cpu';
  const prefer = options.prefer ?? 'auto';
  if (options.threads !== undefined && process.env.TF_NUM_INTRAOP_THREADS === undefined) {
    // libtensorflow reads this once, when tfjs-node first loads.
    process.env.TF_NUM_INTRAOP_THREADS = String(options.threads);
  }
  if (device === 'gpu') {
    const gpu = await cached('tfjs-node-gpu', () => loadNative(PACKAGES.nodeGpu, 'tfjs-node-gpu', 'gpu'));
    if (gpu) return gpu;
    throw new DeviceUnavailableError(`a GPU was requested for TensorFlow.js, but ${PACKAGES.nodeGpu} is not installed or did not load (it needs CUDA 11)`, {
      hint: `install ${PACKAGES.nodeGpu}, or run on the CPU`,
    });
  }
  if (prefer !== 'wasm') {
    const node = await cached('tfjs-node', () => loadNative(PACKAGES.node, 'tfjs-node', 'cpu'));
    if (node) return node;
    if (prefer === 'node') throw new RuntimeMissingError(PACKAGES.node, PURPOSE + ' natively');
  }
  const wasm = await cached('tfjs-wasm', () => loadWasm(options.threads));
  if (wasm) return wasm;
  throw new RuntimeMissingError(PACKAGES.wasm, PURPOSE, {
    hint: `install ${PACKAGES.core} and ${PACKAGES.wasm} (portable), or ${PACKAGES.node} (faster, downloads libtensorflow)`,
  });
}

/** Memoises a loader; a failed or absent load is not cached, so installing a package and retrying works. */
async function cached(name: TfjsBackendName, load: () => Promise<TfjsRuntime | undefined>): Promise<TfjsRuntime | undefined> {
  const existing = runtimes.get(name);
  if (existing) return existing;
  const pending = load();
  runtimes.set(name, pending as Promise<TfjsRuntime>);
  const runtime = await pending.catch((error: unknown) => {
    runtimes.delete(name);
    throw error;
  });
  if (runtime === undefined) runtimes.delete(name);
  return runtime;
}

async function loadNative(pkg: string, backend: TfjsBackendName, device: Device): Promise<TfjsRuntime | undefined> {
  if (resolvePackage(pkg) === undefined) return undefined;
  const { module } = await tryImport(pkg);
  if (!module) return undefined;
  const tf = namespaceOf(module);
  // tfjs-node registers its backend as `tensorflow` when imported.
  if (!(await tf.setBackend('tensorflow'))) return undefined;
  await tf.ready();
  return { tf, backend, engineBackend: 'tensorflow', device };
}

async function loadWasm(threads: number | undefined): Promise<TfjsRuntime | undefined> {
  const core = await tryImport(PACKAGES.core);
  if (!core.module) throw new RuntimeMissingError(PACKAGES.core, PURPOSE);
  const tf = namespaceOf(core.module);
  const entry = resolvePackage(PACKAGES.wasm);
  if (entry === undefined) return undefined;
  const imported = await tryImport(PACKAGES.wasm);
  if (!imported.module) return undefined;
  const wasm = (typeof imported.module.setWasmPaths === 'function' ? imported.module : imported.module.default) as {
    setWasmPaths(prefix: string): void;
    setThreadsCount(n: number): void;
  };
  if (tf.findBackend('wasm') === null || tf.findBackend('wasm') === undefined) {
    // The .wasm binaries sit next to the package's Node entry (dist/); say so explicitly rather
    // than rely on Emscripten guessing from a bundled script's location.
    try {
      wasm.setWasmPaths(path.dirname(entry) + path.sep);
      if (threads !== undefined) wasm.setThreadsCount(threads);
    } catch {
      // Someone initialised the backend already; their settings stand.
    }
  }
  if (!(await tf.setBackend('wasm'))) return undefined;
  await tf.ready();
  return { tf, backend: 'tfjs-wasm', engineBackend: 'wasm', device: 'cpu' };
}
