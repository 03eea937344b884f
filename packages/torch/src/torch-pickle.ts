/**
 * What a PyTorch state_dict pickle may ask for, and nothing more: `collections.OrderedDict`,
 * `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter`, and `torch.<X>Storage` types named
 * through persistent ids `('storage', type, key, location, numel)`, whose location is `cpu` or
 * `cuda[:N]` (mapped to CPU). Each storage must be an entry
 * `<prefix>data/<key>` of the archive, large enough for what the pid declares, and each tensor must
 * lie inside its storage; this is checked from the central directory alone, so the same checks
 * guard the index-only read.
 */
import { ModelFileError, UnsafeModelFileError } from '@metaspliceai/core';
import { STORAGE_TYPES, type TensorDtype } from './dtypes.js';
import { PyCallable, PyDict, PyGlobal, PyTuple, pyTypeName, unpickle } from './pickle.js';
import { layoutProblem, type Layout } from './tensor.js';
import { ZIP_LIMITS, type ZipEntry } from './zip.js';

/** A `torch.<X>Storage` class, usable only as a tag in a persistent id. */
export class StorageType extends PyGlobal {
  constructor(
    name: string,
    readonly dtype: TensorDtype,
    readonly itemSize: number,
  ) {
    super('torch', name);
  }
}

/** One storage the pickle refers to: an archive entry holding `numel` elements of `dtype`. */
export interface StorageRef {
  readonly key: string;
  readonly entry: ZipEntry;
  readonly dtype: TensorDtype;
  readonly itemSize: number;
  readonly numel: number;
}

/** A tensor as the pickle describes it: a checked view into a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly layout: Layout,
  ) {}
}

export interface TorchPickleContext {
  file: string;
  /** The pickle's entry name, e.g. `archive/data.pkl`. */
  where: string;
  /** Entry-name prefix of the archive's records, e.g. `archive/` (may be empty). */
  prefix: string;
  entries: ReadonlyMap<string, ZipEntry>;
}

const STORAGE_NAME = Object.fromEntries([...STORAGE_TYPES].map(([name, t]) => [t.dtype, name])) as Record<TensorDtype, string>;

/** Bytes per element of the array a tensor is returned in (float16 comes back as float32). */
export function outputItemSize(dtype: TensorDtype): number {
  return dtype === 'float16' ? 4 : STORAGE_TYPES.get(STORAGE_NAME[dtype])!.itemSize;
}

/** Storage location tags torch writes for CPU and CUDA tensors; all are read into CPU memory. */
const STORAGE_LOCATION = /^(?:cpu|cuda(?::\d{1,4})?)$/;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** Runs a torch pickle; returns the object it builds and the storages it referred to. */
export function loadTorchPickle(data: Uint8Array, ctx: TorchPickleContext): { root: unknown; storages: Map<string, StorageRef> } {
  const { file, where, prefix, entries } = ctx;
  const storages = new Map<string, StorageRef>();
  const corrupt = (msg: string): never => {
    throw new ModelFileError(file, `${where}: ${msg}`);
  };
  const unsafe = (msg: string): never => {
    throw new UnsafeModelFileError(file, `${where}: ${msg}; nothing in the file was run`);
  };

  const intTuple = (v: unknown, what: string): number[] => {
    if (!(v instanceof PyTuple) || !v.items.every(isInt)) return corrupt(`expected the tensor ${what} to be a tuple of integers, found ${pyTypeName(v)}`);
    return v.items as number[];
  };

  const orderedDict = new PyCallable(
    'collections',
    'OrderedDict',
    (args) => (args.length === 0 ? new PyDict('OrderedDict') : corrupt(`expected OrderedDict() with no arguments, found ${args.length}`)),
    true,
  );

  const rebuildTensorV2 = new PyCallable('torch._utils', '_rebuild_tensor_v2', (args) => {
    // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    if (args.length < 6 || args.length > 7) corrupt(`expected _rebuild_tensor_v2 with 6 or 7 arguments, found ${args.length}`);
    const [storage, offset, size, stride, requiresGrad] = args;
    if (!isStorageRef(storage, storages)) return corrupt(`expected a storage as the first argument of _rebuild_tensor_v2, found ${pyTypeName(storage)}`);
    if (!isInt(offset)) return corrupt(`expected an integer storage offset, found ${pyTypeName(offset)}`);
    const shape = intTuple(size, 'size');
    const strides = intTuple(stride, 'stride');
    if (typeof requiresGrad !== 'boolean') corrupt(`expected requires_grad to be a bool, found ${pyTypeName(requiresGrad)}`);
    const layout: Layout = { offset, shape, stride: strides };
    const maxNumel = Math.floor(ZIP_LIMITS.maxEntrySize / outputItemSize(storage.dtype));
    const problem = layoutProblem(layout, storage.numel, maxNumel);
    if (problem) unsafe(`a tensor on storage '${storage.entry.name}' does not fit it: ${problem}; refused`);
    return new TensorRef(storage, layout);
  });

  const rebuildParameter = new PyCallable('torch._utils', '_rebuild_parameter', (args) => {
    // (data, requires_grad, backward_hooks): a Parameter is just its tensor here.
    if (args.length !== 3 || !(args[0] instanceof TensorRef)) return corrupt('expected _rebuild_parameter(tensor, requires_grad, backward_hooks)');
    return args[0];
  });

  const resolveGlobal = (module: string, name: string): PyGlobal | undefined => {
    if (module === 'collections' && name === 'OrderedDict') return orderedDict;
    if (module === 'torch._utils' && name === '_rebuild_tensor_v2') return rebuildTensorV2;
    if (module === 'torch._utils' && name === '_rebuild_parameter') return rebuildParameter;
    if (module === 'torch') {
      const t = STORAGE_TYPES.get(name);
      if (t) return new StorageType(name, t.dtype, t.itemSize);
    }
    return undefined;
  };

  const persistentLoad = (pid: unknown): StorageRef => {
    if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
      return unsafe(
        `expected a persistent id ('storage', type, key, location, numel), found a ${pyTypeName(pid)}${pid instanceof PyTuple ? ` of ${pid.items.length} items` : ''}`,
      );
    }
    const [, type, key, location, numel] = pid.items;
    if (!(type instanceof StorageType)) return unsafe(`expected a torch storage type in a persistent id, found ${pyTypeName(type)}`);
    if (typeof key !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(key) || key === '.' || key === '..') {
      return unsafe(`persistent id names storage key ${JSON.stringify(key)}, which is not a plain record name`);
    }
    if (typeof location !== 'string') corrupt(`expected a device string in a persistent id, found ${pyTypeName(location)}`);
    // Checkpoints saved on a GPU tag their storages `cuda:N` (Pangolin's, OpenSpliceAI's); every
    // storage is read into CPU memory whatever its tag, so only the tags torch writes are accepted.
    if (!STORAGE_LOCATION.test(location as string)) {
      corrupt(`persistent id names storage location ${JSON.stringify(location)}, expected 'cpu', 'cuda' or 'cuda:<n>'`);
    }
    if (!isInt(numel) || numel < 0) return corrupt(`expected a non-negative element count in a persistent id, found ${String(numel)}`);
    const entryName = `${prefix}data/${key}`;
    const entry = entries.get(entryName);
    if (!entry) return unsafe(`persistent id names storage '${key}', but the archive has no entry '${entryName}'`);
    if (numel * type.itemSize > entry.size) {
      return unsafe(
        `storage '${entryName}' is declared as ${numel} ${type.dtype} elements (${numel * type.itemSize} bytes), but the entry holds ${entry.size} bytes`,
      );
    }
    const seen = storages.get(key);
    if (seen) {
      if (seen.dtype !== type.dtype || seen.numel !== numel) {
        corrupt(`storage '${key}' is referred to as ${seen.numel} ${seen.dtype} and as ${numel} ${type.dtype} elements`);
      }
      return seen;
    }
    const ref: StorageRef = { key, entry, dtype: type.dtype, itemSize: type.itemSize, numel };
    storages.set(key, ref);
    return ref;
  };

  const root = unpickle(data, { file, where, resolveGlobal, persistentLoad });
  return { root, storages };
}

function isStorageRef(v: unknown, storages: Map<string, StorageRef>): v is StorageRef {
  return typeof v === 'object' && v !== null && 'key' in v && storages.get((v as StorageRef).key) === v;
}
