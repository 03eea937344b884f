/**
 * One way to check an options object: a zod schema whose fields carry, as their error message,
 * the values they allow. `parseOptions` turns the first failure into the same
 * `InvalidArgumentError` everywhere (`dist must be a whole number from 0 to 4999, got 5000`), and
 * `parseFlags` runs command-line strings through the same schema, naming the flag instead
 * (`-D takes a whole number from 0 to 4999, got "5000"`), so a flag is checked once, by the library.
 */
import { z } from 'zod';
import { InvalidArgumentError } from '../errors.js';

interface Range {
  min?: number;
  max?: number;
}

function bounds({ min, max }: Range): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

/** A whole number in a range; its message names the range. */
export function wholeNumber(range: Range = {}): z.ZodNumber {
  const error = `a whole number${bounds(range)}`;
  let s = z.number({ error }).int({ error });
  if (range.min !== undefined) s = s.min(range.min, { error });
  if (range.max !== undefined) s = s.max(range.max, { error });
  return s;
}

/** A finite number in a range (`what` names it, e.g. 'a probability'). */
export function finiteNumber(range: Range = {}, what = 'a number'): z.ZodNumber {
  const error = `${what}${bounds(range)}`;
  let s = z.number({ error }); // zod 4 refuses NaN and the infinities
  if (range.min !== undefined) s = s.min(range.min, { error });
  if (range.max !== undefined) s = s.max(range.max, { error });
  return s;
}

/** A probability, 0 to 1. */
export function probability(): z.ZodNumber {
  return finiteNumber({ min: 0, max: 1 }, 'a probability');
}

/** One of a fixed list of strings; its message lists them. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: listOf(values) });
}

/** `a, b or c`. */
export function listOf(values: readonly string[]): string {
  return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/** A boolean. */
export function flag(): z.ZodBoolean {
  return z.boolean({ error: 'true or false' });
}

/** A non-empty string. */
export function text(what = 'a non-empty string'): z.ZodString {
  return z.string({ error: what }).min(1, { error: what });
}

/**
 * An options object: unknown keys pass (TypeScript catches those), each known key is checked.
 * Packages that build schemas from these fields need no zod of their own.
 */
export function optionsObject<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.looseObject(shape);
}

/** An object argument (a reader, a model) that is checked by its own code, not field by field. */
export function objectOf<T extends object>(what: string) {
  return z.custom<T>((v) => typeof v === 'object' && v !== null, { error: what });
}

/** A function (a callback option). */
export function callback() {
  return z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', { error: 'a function' });
}

function show(value: unknown, quote: boolean): string {
  if (typeof value === 'string') return quote ? `"${value}"` : JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

/** What to call options in messages: a prefix (`VariantScorer`) and/or a name per option (a CLI flag). */
export interface OptionNames {
  /** Put before every option name, e.g. `createModelManager` gives `createModelManager: strict must be ...`. */
  owner?: string;
  /** The name of each option in messages, e.g. `{ dist: '-D' }`; a name starting with `-` reads "takes". */
  names?: Readonly<Record<string, string>>;
  /** The values as the user typed them (CLI strings), shown after "got". */
  raw?: Readonly<Record<string, unknown>>;
}

/**
 * Checks `value` against `schema` and returns the parsed value, or throws `InvalidArgumentError`
 * naming the first bad option, the values it allows and the value given.
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, how: OptionNames = {}): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path.map(String).join('.');
  const prefix = how.owner ? `${how.owner}: ` : '';
  if (issue.code === 'unrecognized_keys') {
    throw new InvalidArgumentError(`${prefix}unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`);
  }
  if (!key) throw new InvalidArgumentError(`${prefix}options must be an object, got ${show(value, false)}`);
  const name = how.names?.[key] ?? key;
  const raw = how.raw && key in how.raw ? how.raw[key] : valueAt(value, issue.path);
  const isFlag = name.startsWith('-');
  throw new InvalidArgumentError(`${prefix}${name} ${isFlag ? 'takes' : 'must be'} ${issue.message}, got ${show(raw, isFlag)}`);
}

/** The schema under optional/default/nullable wrappers. */
function baseType(schema: z.ZodType): string {
  let def = schema._zod.def as { type: string; innerType?: z.ZodType };
  while (def.innerType) def = def.innerType._zod.def as typeof def;
  return def.type;
}

/**
 * Runs command-line values (strings) through an options schema: a string given for a number
 * field becomes a number first (an empty or non-numeric one fails that field's check), and
 * errors name the flag (`names`) and quote what was typed. Flags left out (undefined) stay out.
 */
export function parseFlags<S extends z.ZodObject>(
  schema: S,
  raw: Readonly<Record<string, string | boolean | undefined>>,
  names: Readonly<Record<string, string>>,
): z.output<S> {
  const shape = schema.shape as Record<string, z.ZodType>;
  const coerced: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    const field = shape[key];
    const type = field ? baseType(field) : undefined;
    coerced[key] = typeof v === 'string' && type === 'number' ? (v.trim() === '' ? Number.NaN : Number(v)) : v;
  }
  return parseOptions(schema, coerced, { names, raw });
}
