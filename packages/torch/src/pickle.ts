/**
 * A tiny pickle virtual machine that can only build data. Python's unpickler imports and calls
 * whatever a file names, so loading an untrusted pickle can run any code; this one knows a short
 * list of opcodes, asks the caller for every global (refusing what it does not allow) and only
 * calls the JavaScript functions the caller supplies. Anything else throws
 * `UnsafeModelFileError` before it is acted on.
 */
import { ModelFileError, UnsafeModelFileError } from '@metaspliceai/core';

/** A Python tuple (kept apart from lists, which are plain arrays). */
export class PyTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** A Python dict or OrderedDict; `Map` keeps insertion order, as both do. */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
  /** The state a BUILD opcode gave it (torch stores `_metadata` here); unused. */
  state: unknown = undefined;
  constructor(readonly kind: 'dict' | 'OrderedDict') {}
}

/** A global the caller allowed, used as data (e.g. a torch storage type). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualname(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An allowed global that REDUCE (and, where `newobj` is set, NEWOBJ) may call. */
export class PyCallable extends PyGlobal {
  constructor(
    module: string,
    name: string,
    readonly call: (args: readonly unknown[]) => unknown,
    readonly newobj = false,
  ) {
    super(module, name);
  }
}

/** Bounds on the VM so a hostile pickle cannot exhaust memory. */
export interface PickleLimits {
  maxStack: number;
  maxMarkDepth: number;
  maxMemo: number;
  /** Elements put into tuples, lists and dicts over the whole run. */
  maxItems: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = { maxStack: 1_000_000, maxMarkDepth: 256, maxMemo: 1_000_000, maxItems: 10_000_000 };

export interface UnpickleOptions {
  /** The model file, named in every error. */
  file: string;
  /** Where in the file the pickle is (an entry name), for messages. */
  where: string;
  /** The object a GLOBAL names, or undefined to refuse it. Called before anything else is done with it. */
  resolveGlobal(module: string, name: string): PyGlobal | undefined;
  /** Turns a persistent id (BINPERSID) into an object; without it, persistent ids are refused. */
  persistentLoad?(pid: unknown): unknown;
  limits?: Partial<PickleLimits>;
}

/** Short Python-ish type name of a VM value, for messages. */
export function pyTypeName(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return v.kind;
  if (v instanceof PyGlobal) return v.qualname;
  const ctor = (v as { constructor?: { name?: string } })?.constructor?.name;
  return ctor ?? typeof v;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// Opcodes (pickletools names).
const OP = {
  MARK: 0x28, // (
  STOP: 0x2e, // .
  POP: 0x30, // 0
  POP_MARK: 0x31, // 1
  DUP: 0x32, // 2
  BINBYTES: 0x42, // B
  SHORT_BINBYTES: 0x43, // C
  BINFLOAT: 0x47, // G
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  BININT2: 0x4d, // M
  NONE: 0x4e, // N
  BINPERSID: 0x51, // Q
  REDUCE: 0x52, // R
  BINUNICODE: 0x58, // X
  EMPTY_LIST: 0x5d, // ]
  APPEND: 0x61, // a
  BUILD: 0x62, // b
  GLOBAL: 0x63, // c
  DICT: 0x64, // d
  APPENDS: 0x65, // e
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  LIST: 0x6c, // l
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  SETITEM: 0x73, // s
  TUPLE: 0x74, // t
  SETITEMS: 0x75, // u
  EMPTY_DICT: 0x7d, // }
  EMPTY_TUPLE: 0x29, // )
  PROTO: 0x80,
  NEWOBJ: 0x81,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
} as const;

/**
 * Runs the pickle in `data` and returns the object it builds. Throws `UnsafeModelFileError` for
 * an opcode outside the supported set, a refused global, a call on anything but an allowed
 * callable, or a limit overrun; `ModelFileError` for a malformed or truncated pickle.
 */
export function unpickle(data: Uint8Array, options: UnpickleOptions): unknown {
  const { file, where } = options;
  const limits = { ...DEFAULT_PICKLE_LIMITS, ...options.limits };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opAt = 0;
  let items = 0;

  const corrupt = (msg: string): never => {
    throw new ModelFileError(file, `${where} byte ${opAt}: ${msg}`);
  };
  const unsafe = (msg: string): never => {
    throw new UnsafeModelFileError(file, `${where} byte ${opAt}: ${msg}; nothing in the file was run`);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > data.length) corrupt(`expected ${n} more bytes, the pickle ends at byte ${data.length} (truncated or corrupt)`);
  };
  const base = (): number => (marks.length ? marks[marks.length - 1] : 0);
  const pop = (): unknown => {
    if (stack.length <= base()) corrupt('stack underflow (corrupt pickle)');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length <= base()) corrupt('stack underflow (corrupt pickle)');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    if (!marks.length) corrupt('expected a MARK before this opcode, found none (corrupt pickle)');
    return stack.splice(marks.pop()!);
  };
  const put = (index: number): void => {
    if (!memo.has(index) && memo.size >= limits.maxMemo) unsafe(`memo grows past ${limits.maxMemo} entries`);
    memo.set(index, top());
  };
  const get = (index: number): void => {
    if (!memo.has(index)) corrupt(`memo entry ${index} is read before it is written (corrupt pickle)`);
    stack.push(memo.get(index));
  };
  const text = (n: number): string => {
    need(n);
    try {
      return utf8.decode(data.subarray(pos, (pos += n)));
    } catch {
      return corrupt('a string is not valid UTF-8');
    }
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const out = new Uint8Array(n);
    out.set(data.subarray(pos, (pos += n)));
    return out;
  };
  const line = (): string => {
    const len = data.subarray(pos, pos + 1025).indexOf(0x0a);
    if (len < 0) corrupt('expected a newline-terminated name (corrupt pickle)');
    const s = text(len);
    pos++;
    return s;
  };
  const u8 = (): number => (need(1), data[pos++]);
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? corrupt('a 64-bit length is too large') : Number(v);
  };
  const global = (module: string, name: string): void => {
    const g = options.resolveGlobal(module, name);
    if (!g) unsafe(`the pickle asks for the global '${module}.${name}', which is not on the allowlist for a PyTorch state_dict; refused`);
    stack.push(g);
  };
  /** Counts elements added to containers, so BINGET/APPEND loops cannot grow memory without bound. */
  const count = (n: number): void => {
    items += n;
    if (items > limits.maxItems) unsafe(`the pickle builds more than ${limits.maxItems} container elements`);
  };
  const asDict = (v: unknown): PyDict => (v instanceof PyDict ? v : corrupt(`expected a dict to set items on, found ${pyTypeName(v)}`));
  const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : corrupt(`expected a list to append to, found ${pyTypeName(v)}`));

  while (true) {
    opAt = pos;
    if (pos >= data.length) corrupt('the pickle ends without a STOP opcode (truncated)');
    const op = data[pos++];
    switch (op) {
      case OP.PROTO: {
        const v = u8();
        if (v > 5) corrupt(`unsupported pickle protocol ${v}`);
        break;
      }
      case OP.FRAME: {
        const n = u64();
        if (n > data.length - pos) corrupt('a frame runs past the end of the pickle (truncated)');
        break;
      }
      case OP.STOP: {
        const result = pop();
        return result;
      }
      case OP.MARK:
        if (marks.length >= limits.maxMarkDepth) unsafe(`MARKs nest deeper than ${limits.maxMarkDepth}`);
        marks.push(stack.length);
        break;
      case OP.POP:
        if (stack.length > base()) stack.pop();
        else popMark();
        break;
      case OP.POP_MARK:
        popMark();
        break;
      case OP.DUP:
        stack.push(top());
        break;
      case OP.GLOBAL: {
        const module = line();
        const name = line();
        global(module, name);
        break;
      }
      case OP.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') corrupt('STACK_GLOBAL expects two strings');
        global(module as string, name as string);
        break;
      }
      case OP.BINPUT:
        put(u8());
        break;
      case OP.LONG_BINPUT:
        put(u32());
        break;
      case OP.MEMOIZE:
        put(memo.size);
        break;
      case OP.BINGET:
        get(u8());
        break;
      case OP.LONG_BINGET:
        get(u32());
        break;
      case OP.EMPTY_DICT:
        stack.push(new PyDict('dict'));
        break;
      case OP.EMPTY_LIST:
        stack.push([]);
        break;
      case OP.EMPTY_TUPLE:
        stack.push(new PyTuple([]));
        break;
      case OP.TUPLE: {
        const t = popMark();
        count(t.length);
        stack.push(new PyTuple(t));
        break;
      }
      case OP.TUPLE1: {
        const a = pop();
        count(1);
        stack.push(new PyTuple([a]));
        break;
      }
      case OP.TUPLE2: {
        const b = pop();
        const a = pop();
        count(2);
        stack.push(new PyTuple([a, b]));
        break;
      }
      case OP.TUPLE3: {
        const c = pop();
        const b = pop();
        const a = pop();
        count(3);
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case OP.LIST: {
        const l = popMark();
        count(l.length);
        stack.push(l);
        break;
      }
      case OP.DICT: {
        const kv = popMark();
        if (kv.length % 2) corrupt('DICT needs key/value pairs');
        count(kv.length);
        const d = new PyDict('dict');
        for (let i = 0; i < kv.length; i += 2) d.map.set(kv[i], kv[i + 1]);
        stack.push(d);
        break;
      }
      case OP.BININT:
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case OP.BININT1:
        stack.push(u8());
        break;
      case OP.BININT2:
        need(2);
        stack.push(view.getUint16(pos, true));
        pos += 2;
        break;
      case OP.LONG1: {
        const n = u8();
        need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[pos + i]);
        if (n > 0 && data[pos + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        pos += n;
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case OP.BINFLOAT:
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case OP.BINUNICODE:
        stack.push(text(u32()));
        break;
      case OP.SHORT_BINUNICODE:
        stack.push(text(u8()));
        break;
      case OP.BINUNICODE8:
        stack.push(text(u64()));
        break;
      case OP.SHORT_BINBYTES:
        stack.push(bytes(u8()));
        break;
      case OP.BINBYTES:
        stack.push(bytes(u32()));
        break;
      case OP.BINBYTES8:
        stack.push(bytes(u64()));
        break;
      case OP.NONE:
        stack.push(null);
        break;
      case OP.NEWTRUE:
        stack.push(true);
        break;
      case OP.NEWFALSE:
        stack.push(false);
        break;
      case OP.REDUCE: {
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyCallable)) unsafe(`REDUCE would call ${pyTypeName(fn)}, which is not an allowed callable`);
        if (!(args instanceof PyTuple)) corrupt(`REDUCE expects an argument tuple, found ${pyTypeName(args)}`);
        stack.push((fn as PyCallable).call((args as PyTuple).items));
        break;
      }
      case OP.NEWOBJ: {
        const args = pop();
        const cls = pop();
        if (!(cls instanceof PyCallable) || !cls.newobj) unsafe(`NEWOBJ would construct ${pyTypeName(cls)}, which is not allowed`);
        if (!(args instanceof PyTuple)) corrupt(`NEWOBJ expects an argument tuple, found ${pyTypeName(args)}`);
        stack.push((cls as PyCallable).call((args as PyTuple).items));
        break;
      }
      case OP.BUILD: {
        const state = pop();
        const target = top();
        // Only a dict's instance state (OrderedDict `_metadata`) is accepted; it is kept, not applied.
        if (!(target instanceof PyDict) || !(state instanceof PyDict || state === null)) {
          unsafe(`BUILD would set the state of ${pyTypeName(target)} from ${pyTypeName(state)}, which a state_dict never does`);
        }
        (target as PyDict).state = state;
        break;
      }
      case OP.SETITEM: {
        const value = pop();
        const key = pop();
        count(2);
        asDict(top()).map.set(key, value);
        break;
      }
      case OP.SETITEMS: {
        const kv = popMark();
        if (kv.length % 2) corrupt('SETITEMS needs key/value pairs');
        count(kv.length);
        const d = asDict(top());
        for (let i = 0; i < kv.length; i += 2) d.map.set(kv[i], kv[i + 1]);
        break;
      }
      case OP.APPEND: {
        const value = pop();
        count(1);
        asList(top()).push(value);
        break;
      }
      case OP.APPENDS: {
        const values = popMark();
        count(values.length);
        const list = asList(top());
        for (const v of values) list.push(v);
        break;
      }
      case OP.BINPERSID: {
        const pid = pop();
        if (!options.persistentLoad) unsafe('the pickle uses a persistent id, which is not allowed here');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      default:
        unsafe(`opcode 0x${op.toString(16).padStart(2, '0')} is not one a PyTorch state_dict uses; refused`);
    }
    if (stack.length > limits.maxStack) unsafe(`the stack grows past ${limits.maxStack} items`);
  }
}
