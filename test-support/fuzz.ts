/**
 * A small, seeded mutation fuzzer for the readers of untrusted files (.pt, .h5, .onnx,
 * model_info.json, VCF). Each target takes a real file, applies random mutations (byte flips,
 * interesting values, truncations, insertions, deletions, chunk duplication) and checks that the
 * reader either accepts the result or fails with one of the project's typed errors naming the file.
 *
 * Bounded twice: by time (`METASPLICEAI_FUZZ_SECONDS` per target, default 3) and by an iteration
 * cap, so CI time stays small; raise the budget locally to search longer. The sequence of cases is
 * fixed by the seed (`METASPLICEAI_FUZZ_SEED`, default 1), so a failure names the seed and the
 * iteration that reproduce it, and the failing input is saved under the OS temp folder.
 * `METASPLICEAI_FUZZ_VERBOSE=1` prints each target's counts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What the project's errors share. Checked through the `Symbol.for` brand that
 * `MetaSpliceAIError.isInstance` uses (this folder cannot import the packages: it is outside them).
 */
export interface TypedError extends Error {
  code: string;
}
const BRAND = Symbol.for('metaspliceai.error');
function isTyped(error: unknown): error is TypedError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

/** Seconds each fuzz target may run: `$METASPLICEAI_FUZZ_SECONDS`, default 3. */
export function fuzzSeconds(fallback = 3): number {
  const value = Number(process.env.METASPLICEAI_FUZZ_SECONDS);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** The first seed: `$METASPLICEAI_FUZZ_SEED`, default 1. */
export function fuzzSeed(): number {
  const value = Number(process.env.METASPLICEAI_FUZZ_SEED);
  return Number.isInteger(value) ? value : 1;
}

/** A vitest timeout (ms) that covers a fuzz target's budget plus setup. */
export function fuzzTimeout(extraSeconds = 60): number {
  return (fuzzSeconds() + extraSeconds) * 1000;
}

/** mulberry32: a tiny deterministic PRNG, so every case can be replayed from its seed. */
export function rng(seed: number): Random {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Object.assign(next, {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)],
  });
}

export interface Random {
  (): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

/** Byte values that tend to break parsers: zeros, sign bits, all-ones, ASCII delimiters. */
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x0a, 0x0d, 0x09, 0x22, 0x2c, 0x2e, 0x2f, 0x3a, 0x23, 0x3b, 0x3d, 0x5c];

export interface MutateOptions {
  /** Byte ranges [start, end) that most point mutations should hit (e.g. headers, not bulk weights). */
  focus?: readonly (readonly [number, number])[];
  /** Share of point mutations aimed at `focus` (default 0.8). */
  focusShare?: number;
  /** Most mutations per case (default 6). */
  maxMutations?: number;
  /** Leave out mutations that change the length (for formats whose offsets must stay put). */
  keepLength?: boolean;
}

/** Applies 1..maxMutations random mutations to a copy of `input`; `steps` says which, for replay. */
export function mutate(input: Uint8Array, random: Random, options: MutateOptions = {}): { bytes: Uint8Array; steps: string[] } {
  let bytes = Buffer.from(input);
  const steps: string[] = [];
  const count = 1 + random.int(options.maxMutations ?? 6);
  const position = (): number => {
    const focus = options.focus;
    if (focus?.length && random() < (options.focusShare ?? 0.8)) {
      const [start, end] = random.pick(focus);
      const lo = Math.max(0, Math.min(start, bytes.length));
      const hi = Math.max(lo, Math.min(end, bytes.length));
      if (hi > lo) return lo + random.int(hi - lo);
    }
    return random.int(Math.max(1, bytes.length));
  };
  const kinds = options.keepLength
    ? ['flip', 'set', 'interesting', 'word']
    : ['flip', 'set', 'interesting', 'word', 'truncate', 'insert', 'delete', 'duplicate'];
  for (let m = 0; m < count; m++) {
    if (bytes.length === 0) break;
    const kind = random.pick(kinds);
    const at = position();
    switch (kind) {
      case 'flip':
        bytes[at] ^= 1 << random.int(8);
        break;
      case 'set':
        bytes[at] = random.int(256);
        break;
      case 'interesting':
        bytes[at] = random.pick(INTERESTING);
        break;
      case 'word': {
        // A 32-bit field set to a boundary value (sizes, offsets, counts).
        const value = random.pick([0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x10000, random.int(2 ** 32)]);
        for (let k = 0; k < 4 && at + k < bytes.length; k++) bytes[at + k] = (value >>> (8 * k)) & 0xff;
        break;
      }
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
      case 'insert': {
        const extra = Buffer.alloc(1 + random.int(16));
        for (let k = 0; k < extra.length; k++) extra[k] = random() < 0.5 ? random.pick(INTERESTING) : random.int(256);
        bytes = Buffer.concat([bytes.subarray(0, at), extra, bytes.subarray(at)]);
        break;
      }
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + random.int(64)))]);
        break;
      case 'duplicate': {
        const from = random.int(bytes.length);
        const chunk = bytes.subarray(from, Math.min(bytes.length, from + 1 + random.int(256)));
        bytes = Buffer.concat([bytes.subarray(0, at), chunk, bytes.subarray(at)]);
        break;
      }
    }
    steps.push(`${kind}@${at}`);
  }
  return { bytes, steps };
}

export interface FuzzCase {
  /** 0-based iteration. */
  iteration: number;
  random: Random;
}

export interface FuzzOptions {
  /** Names the target in messages and in the saved failing input. */
  name: string;
  /** Time budget in seconds (default fuzzSeconds()). */
  seconds?: number;
  /** Iteration cap (default 5000). */
  maxIterations?: number;
  /** A single case slower than this is reported as a hang (default 10 s). */
  maxCaseMs?: number;
}

export interface FuzzStats {
  iterations: number;
  /** Cases the reader accepted. */
  accepted: number;
  /** Cases refused with a typed error, by error code. */
  refused: Record<string, number>;
  seconds: number;
}

/**
 * Runs `attempt` for one case after another until the budget or the cap is reached. `attempt`
 * builds its input from `random` (so the iteration replays), returns `'accepted'` or the typed
 * error it got (already checked with {@link expectTypedError}), and throws on anything else; the
 * thrown error is re-thrown with the seed, iteration and mutation steps, and `input()` (when
 * given) is saved for replay.
 */
export async function fuzz(
  options: FuzzOptions,
  attempt: (c: FuzzCase, record: (input: Uint8Array, steps: string[]) => void) => Promise<'accepted' | TypedError>,
): Promise<FuzzStats> {
  const seconds = options.seconds ?? fuzzSeconds();
  const maxIterations = options.maxIterations ?? 5000;
  const maxCaseMs = options.maxCaseMs ?? 10_000;
  const seed = fuzzSeed();
  const started = performance.now();
  const stats: FuzzStats = { iterations: 0, accepted: 0, refused: {}, seconds: 0 };
  const messages = new Map<string, number>();
  for (let iteration = 0; iteration < maxIterations && performance.now() - started < seconds * 1000; iteration++) {
    const random = rng(seed * 1_000_003 + iteration);
    let input: Uint8Array | undefined;
    let steps: string[] = [];
    const caseStarted = performance.now();
    try {
      const outcome = await attempt({ iteration, random }, (bytes, s) => {
        input = bytes;
        steps = s;
      });
      const ms = performance.now() - caseStarted;
      if (ms > maxCaseMs) throw new Error(`took ${Math.round(ms)} ms (a hang?)`);
      if (outcome === 'accepted') stats.accepted++;
      else {
        stats.refused[outcome.code] = (stats.refused[outcome.code] ?? 0) + 1;
        if (process.env.METASPLICEAI_FUZZ_VERBOSE) {
          // A sample of distinct messages (file names and numbers blurred), to see what gets refused.
          const text = outcome.message
            .replace(/\S*case-\d+\S*/g, '<file>')
            .replace(/\d+/g, 'N')
            .slice(0, 140);
          messages.set(text, (messages.get(text) ?? 0) + 1);
        }
      }
    } catch (error) {
      let saved = '';
      if (input) {
        const dir = join(tmpdir(), 'metaspliceai-fuzz-failures');
        mkdirSync(dir, { recursive: true });
        saved = join(dir, `${options.name}-seed${seed}-case${iteration}.bin`);
        writeFileSync(saved, input);
      }
      const where = `fuzz ${options.name}: seed ${seed}, iteration ${iteration}, mutations [${steps.join(', ')}]${saved ? `, input saved as ${saved}` : ''}`;
      if (error instanceof Error) {
        error.message = `${where}: ${error.message}`;
        throw error;
      }
      throw new Error(`${where}: ${String(error)}`);
    }
    stats.iterations++;
  }
  stats.seconds = (performance.now() - started) / 1000;
  if (process.env.METASPLICEAI_FUZZ_VERBOSE) {
    const common = [...messages].sort((a, b) => b[1] - a[1]).slice(0, 15);
    console.log(`fuzz ${options.name}: seed ${seed}`, JSON.stringify(stats), `\n${common.map(([m, n]) => `  ${n}x ${m}`).join('\n')}`);
  }
  return stats;
}

/**
 * Checks that `error` is one of the project's typed errors (not a raw TypeError, RangeError or
 * wrapped internal failure), with one of `codes`, and that its message names `file`. Returns it.
 */
export function expectTypedError(error: unknown, file: string, codes: readonly string[]): TypedError {
  if (!isTyped(error)) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error);
    throw new Error(`expected a typed MetaSpliceAIError, got a raw error: ${detail}`);
  }
  if (!codes.includes(error.code)) throw new Error(`expected an error with code ${codes.join(' or ')}, got ${error.code}: ${error.message}`);
  if (!error.message.includes(file)) throw new Error(`the error does not name the file ${file}: ${error.message}`);
  if (/unexpected failure/.test(error.message)) throw new Error(`an internal error escaped the reader's checks (wrapped): ${error.message}`);
  return error;
}

/** Runs `read`; returns 'accepted' or the typed error it threw (see {@link expectTypedError}). */
export async function typedOutcome(read: () => unknown, file: string, codes: readonly string[]): Promise<'accepted' | TypedError> {
  try {
    await read();
    return 'accepted';
  } catch (error) {
    return expectTypedError(error, file, codes);
  }
}

/** Values that tend to break code reading parsed JSON: wrong types, boundaries, odd strings. */
const INTERESTING_JSON: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1,
  1.5,
  -0.5,
  1e9,
  2 ** 53,
  -(2 ** 31),
  Number.MAX_VALUE,
  '',
  'x',
  '..',
  '../../etc/passwd',
  '/etc/passwd',
  'C:\\evil',
  '\u0000',
  '0',
  'NaN',
  [],
  [0],
  [[]],
  {},
  { '': null },
  JSON.parse('{"__proto__":{"polluted":true},"constructor":"x"}'),
];

type JsonPath = (string | number)[];

/** Every path (object key / array index chain) in `value`, the root included. */
function jsonPaths(value: unknown, prefix: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => jsonPaths(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) jsonPaths(v, [...prefix, k], out);
  return out;
}

/**
 * Applies 1..maxMutations structural mutations to a deep copy of a JSON value: replace a node with
 * an interesting value or another node, delete an object key or array element, duplicate an array
 * element, or nudge a number. Returns the value and the steps, for replay.
 */
export function mutateJson(input: unknown, random: Random, maxMutations = 3): { value: unknown; steps: string[] } {
  let root = JSON.parse(JSON.stringify(input)) as unknown;
  const steps: string[] = [];
  const count = 1 + random.int(maxMutations);
  for (let m = 0; m < count; m++) {
    const paths = jsonPaths(root);
    const path = random.pick(paths);
    const parent = path.length ? (path.slice(0, -1).reduce<any>((v, k) => v[k], root) as Record<string | number, unknown>) : undefined;
    const key = path[path.length - 1];
    const current = parent === undefined ? root : parent[key];
    const kind = random.pick(['replace', 'replace', 'other', 'delete', 'duplicate', 'nudge'] as const);
    let next: unknown = current;
    if (kind === 'replace') next = JSON.parse(JSON.stringify(random.pick(INTERESTING_JSON)));
    else if (kind === 'other') next = JSON.parse(JSON.stringify(random.pick(paths).reduce<any>((v, k) => v[k], root) ?? null));
    else if (kind === 'nudge' && typeof current === 'number') next = current + random.pick([-1, 1, -current, current, 0.5]);
    else if (kind === 'delete' && parent !== undefined) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      steps.push(`delete ${path.join('.')}`);
      continue;
    } else if (kind === 'duplicate' && Array.isArray(current) && current.length) {
      current.splice(random.int(current.length), 0, JSON.parse(JSON.stringify(random.pick(current))));
      steps.push(`duplicate-in ${path.join('.')}`);
      continue;
    }
    if (parent === undefined) root = next;
    else parent[key] = next;
    steps.push(`${kind} ${path.join('.') || '(root)'}`);
  }
  return { value: root, steps };
}
