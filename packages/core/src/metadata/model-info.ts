import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { type BaseModelAdapter, OUTPUT_CLASSES, SPLICE_CLASS_TRACKS } from '../adapter/contract.js';
import { MetadataError } from '../errors.js';
import { type ModelInfo, modelInfoSchema } from './schema.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { toOutputError } from '../io/write-errors.js';

export type ModelInfoRead = { status: 'ok'; info: ModelInfo } | { status: 'missing' } | { status: 'invalid'; message: string };

/** Reads and validates a model_info.json without throwing: discovery reports, it does not stop. */
export async function readModelInfo(file: string, schema: z.ZodType<ModelInfo> = modelInfoSchema): Promise<ModelInfoRead> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
    return { status: 'invalid', message: `${file}: unreadable (${(error as Error).message})` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { status: 'invalid', message: `${file}: not valid JSON (${(error as Error).message})` };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    return { status: 'invalid', message: `${file}: ${z.prettifyError(parsed.error).replace(/\n+/g, '; ')}` };
  }
  return { status: 'ok', info: parsed.data };
}

/** Reads a model_info.json and throws a MetadataError when it is missing or invalid. */
export async function loadModelInfo(file: string, schema: z.ZodType<ModelInfo> = modelInfoSchema): Promise<ModelInfo> {
  const read = await readModelInfo(file, schema);
  if (read.status === 'ok') return read.info;
  if (read.status === 'missing') {
    throw new MetadataError(file, 'no such file', { hint: 'write one with: metaspliceai models index' });
  }
  throw new MetadataError(file, read.message.replace(`${file}: `, ''));
}

/** Validates and writes a model_info.json atomically (temp file beside it, fsync, rename), so a reader never sees half of one. */
export async function writeModelInfo(file: string, info: ModelInfo, schema: z.ZodType<ModelInfo> = modelInfoSchema): Promise<void> {
  const parsed = schema.safeParse(info);
  if (!parsed.success) throw new MetadataError(file, `refusing to write invalid metadata: ${z.prettifyError(parsed.error)}`);
  // metadata/ is a folder the tool manages, so it is created; the file itself appears whole or not at all.
  await fs.mkdir(dirname(file), { recursive: true }).catch((error: unknown) => {
    throw toOutputError(dirname(file), error);
  });
  await writeFileAtomic(file, `${JSON.stringify(parsed.data, null, 2)}\n`);
}

/** The sha256 of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Resolves a path listed in model_info.json against the set folder, refusing one that leaves it
 * (the schema already refuses `..`; this also catches absolute paths that slip through on Windows).
 */
export function resolveInsideSet(setDirectory: string, listedPath: string): string | undefined {
  const full = resolve(setDirectory, listedPath);
  const rel = relative(setDirectory, full);
  if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('..') || resolve(rel) === rel) return undefined;
  return full;
}

/**
 * The track fields of a set's model_info.json, from what its adapter declares: `tracks` always,
 * and `outputClasses` only where the tracks are the three splice classes (readers before contract
 * v2 look for it); `undefined` clears a stale one.
 */
export function trackFields(adapter: Pick<BaseModelAdapter, 'setTracks'>): Pick<ModelInfo, 'tracks' | 'outputClasses'> {
  const tracks = (adapter.setTracks ?? SPLICE_CLASS_TRACKS).map((t) => t.name);
  const classes = tracks.length === OUTPUT_CLASSES.length && tracks.every((name, i) => name === OUTPUT_CLASSES[i]);
  return { tracks, outputClasses: classes ? [...OUTPUT_CLASSES] : undefined };
}
