/**
 * Reading a PyTorch `state_dict` (.pt, the zip format of torch >= 1.6) without Python or torch:
 * the weights of OpenSpliceAI ship only as such files, and loading them must never run code the
 * file carries. The archive and pickle are parsed by the checked readers next to this file.
 */
import { InvalidArgumentError, MetaSpliceAIError, ModelFileError, UnsafeModelFileError } from '@metaspliceai/core';
import { halfArrayToFloat32, storageArray, type StorageArray, type TensorData, type TensorDtype } from './dtypes.js';
import { PyDict, pyTypeName } from './pickle.js';
import { gather, numelOf } from './tensor.js';
import { loadTorchPickle, outputItemSize, TensorRef, type StorageRef } from './torch-pickle.js';
import { ZipArchive } from './zip.js';

/** Name, element type and shape of one tensor in a state_dict. */
export interface TensorInfo {
  name: string;
  dtype: TensorDtype;
  shape: number[];
}

/**
 * One tensor with its elements, row-major. `float16` tensors come back as `Float32Array`
 * (JavaScript has no half-precision array). Contiguous tensors are views into the bytes read from
 * the file; tensors that share a storage in the file share memory here too.
 */
export interface StateDictTensor extends TensorInfo {
  data: TensorData;
}

/** Bytes of tensor data a single read may return in all (stride-0 views can amplify storages). */
const MAX_OUTPUT_BYTES = 2 ** 32;
/**
 * Views may repeat storage elements (tied weights share a storage; a stride-0 view repeats one
 * element), so the tensors can expose more bytes than the file holds. Past this many bytes, they
 * may expose at most {@link MAX_AMPLIFICATION} times the bytes of the storages they read: without
 * the bound a file of a few hundred bytes could make the reader allocate and fill gigabytes.
 */
const AMPLIFICATION_FREE_BYTES = 2 ** 26;
const MAX_AMPLIFICATION = 8;
/** Largest data.pkl accepted; a state_dict's pickle is ~150 bytes per tensor. */
const MAX_PICKLE_BYTES = 2 ** 26;

interface Parsed {
  tensors: { name: string; ref: TensorRef }[];
  storages: Map<string, StorageRef>;
  prefix: string;
}

/** Opens `file`, runs `fn`, closes it; any non-project error becomes a `ModelFileError`. */
async function withArchive<T>(file: string, fn: (zip: ZipArchive) => Promise<T>): Promise<T> {
  let zip: ZipArchive | undefined;
  try {
    zip = await ZipArchive.open(file);
    return await fn(zip);
  } catch (error) {
    if (MetaSpliceAIError.isInstance(error)) throw error;
    throw new ModelFileError(file, `unexpected failure while reading the file (${(error as Error)?.message ?? String(error)})`, { cause: error });
  } finally {
    await zip?.close().catch(() => undefined);
  }
}

/** Finds `<prefix>data.pkl`, runs it and checks the result is a dict of tensors. */
async function parse(file: string, zip: ZipArchive): Promise<Parsed> {
  const pkls = [...zip.entries.keys()].filter((n) => /^([^/]+\/)?data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    const names = [...zip.entries.keys()];
    const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? `, ... (${names.length} entries)` : '');
    throw new ModelFileError(
      file,
      pkls.length === 0
        ? `expected a PyTorch archive with an entry '<name>/data.pkl', found entries: ${shown || 'none'}`
        : `expected one '<name>/data.pkl' entry, found ${pkls.length}: ${pkls.join(', ')}`,
    );
  }
  const where = pkls[0];
  const prefix = where.slice(0, where.length - 'data.pkl'.length);
  const entry = zip.entries.get(where)!;
  if (entry.size > MAX_PICKLE_BYTES) {
    throw new UnsafeModelFileError(file, `'${where}' is ${entry.size} bytes, over the ${MAX_PICKLE_BYTES}-byte limit for a state_dict pickle; refused`);
  }
  const bytes = await zip.readEntry(entry);
  const { root, storages } = loadTorchPickle(bytes, { file, where, prefix, entries: zip.entries });
  return { tensors: tensorsOf(file, root), storages, prefix };
}

/** The (name, tensor) pairs of a dict of tensors, in order; anything else is a `ModelFileError`. */
function tensorsOf(file: string, root: unknown): { name: string; ref: TensorRef }[] {
  if (!(root instanceof PyDict)) {
    throw new ModelFileError(file, `expected the pickle to hold a state_dict (a dict of tensors), found a ${pyTypeName(root)}`);
  }
  const out: { name: string; ref: TensorRef }[] = [];
  for (const [key, value] of root.map) {
    if (typeof key !== 'string') {
      throw new ModelFileError(file, `expected a state_dict with string keys, found a ${pyTypeName(key)} key`);
    }
    if (!(value instanceof TensorRef)) {
      // A training checkpoint nests the state_dict under a key; say where, to help the user.
      const nested = [...root.map].find(([, v]) => v instanceof PyDict && v.map.size > 0 && [...v.map.values()].every((x) => x instanceof TensorRef));
      const hint = nested ? ` (this looks like a checkpoint; its key '${String(nested[0])}' holds a state_dict)` : '';
      throw new ModelFileError(file, `expected a state_dict (a dict of tensors), found key '${key}' holding a ${pyTypeName(value)}${hint}`);
    }
    out.push({ name: key, ref: value });
  }
  return out;
}

/**
 * Names, dtypes and shapes of the tensors in a `.pt` state_dict, in file order. Reads only the
 * archive's directory and its pickle, not the tensor data, so it is cheap enough to inspect many
 * files (e.g. to infer a model's architecture and context from its weights); every layout is
 * still checked against the sizes the archive declares.
 */
export async function readStateDictIndex(file: string): Promise<TensorInfo[]> {
  return withArchive(file, async (zip) => {
    const { tensors } = await parse(file, zip);
    return tensors.map(({ name, ref }) => ({ name, dtype: ref.storage.dtype, shape: [...ref.layout.shape] }));
  });
}

/**
 * Every tensor of a `.pt` state_dict, keyed by name in file order. Refuses (with
 * `UnsafeModelFileError`) anything a state_dict does not need, so a malicious file cannot run code;
 * corrupt or truncated files give `ModelFileError`. All entries used are CRC-checked.
 */
export async function readStateDict(file: string): Promise<Map<string, StateDictTensor>> {
  return withArchive(file, async (zip) => {
    const { tensors, prefix } = await parse(file, zip);
    let outBytes = 0;
    for (const { ref } of tensors) outBytes += numelOf(ref.layout.shape) * outputItemSize(ref.storage.dtype);
    if (outBytes > MAX_OUTPUT_BYTES) {
      throw new UnsafeModelFileError(file, `the tensors would take ${outBytes} bytes, over the reader's ${MAX_OUTPUT_BYTES}-byte limit; refused`);
    }
    const used = new Map<string, StorageRef>();
    for (const { ref } of tensors) used.set(ref.storage.key, ref.storage);
    let storageBytes = 0;
    for (const s of used.values()) storageBytes += s.numel * outputItemSize(s.dtype);
    if (outBytes > AMPLIFICATION_FREE_BYTES && outBytes > MAX_AMPLIFICATION * storageBytes) {
      throw new UnsafeModelFileError(
        file,
        `the tensors would expand ${storageBytes} bytes of storage into ${outBytes} bytes (overlapping or broadcast views, a decompression bomb); refused`,
      );
    }
    const byteorderEntry = zip.entries.get(`${prefix}byteorder`);
    const wanted = [...used.values()].map((s) => s.entry);
    if (byteorderEntry) wanted.push(byteorderEntry);
    const bytes = await zip.readEntries(wanted);

    let littleEndian = true;
    if (byteorderEntry) {
      const order = Buffer.from(bytes.get(byteorderEntry.name)!).toString('latin1').trim();
      if (order !== 'little' && order !== 'big') {
        throw new ModelFileError(file, `expected '${byteorderEntry.name}' to say 'little' or 'big', found ${JSON.stringify(order.slice(0, 20))}`);
      }
      littleEndian = order === 'little';
    }

    const arrays = new Map<string, StorageArray>();
    for (const [key, s] of used) arrays.set(key, storageArray(bytes.get(s.entry.name)!, s.dtype, s.numel, littleEndian));

    const out = new Map<string, StateDictTensor>();
    for (const { name, ref } of tensors) {
      const { dtype } = ref.storage;
      const raw = gather(arrays.get(ref.storage.key)!, ref.layout);
      const data = dtype === 'float16' ? halfArrayToFloat32(raw as Uint16Array) : (raw as TensorData);
      out.set(name, { name, dtype, shape: [...ref.layout.shape], data });
    }
    return out;
  });
}

/**
 * A floating-point tensor's elements as float32, the type the ONNX graphs take. Returns the
 * tensor's own array when it is float32 already (no copy); converts float64 and float16.
 * Integer and bool tensors (e.g. BatchNorm's `num_batches_tracked`) are refused, since using them
 * as weights is almost certainly a mix-up.
 */
export function toFloat32(t: StateDictTensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof Float64Array) return Float32Array.from(t.data);
  throw new InvalidArgumentError(`toFloat32: tensor '${t.name}' has dtype ${t.dtype}, expected a floating-point tensor`);
}
