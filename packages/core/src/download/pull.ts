import { promises as fs } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { type BaseModelAdapter, type KnownModelSet, OUTPUT_CLASSES } from '../adapter/contract.js';
import { DownloadError } from '../errors.js';
import { readModelInfo, sha256File, writeModelInfo } from '../metadata/model-info.js';
import { MODEL_INFO_SCHEMA_VERSION, type ModelInfo } from '../metadata/schema.js';
import { downloadFile } from './download.js';

/** Progress of a whole set, in bytes still to fetch (files already present are not counted). */
export interface PullProgress {
  /** The file being fetched (its catalogue name). */
  file: string;
  /** Bytes fetched so far in this pull, resumed bytes of `.part` files included. */
  received: number;
  /** Bytes of every file this pull fetches. */
  total: number;
}

export interface PulledFile {
  name: string;
  path: string;
  size: number;
  sha256: string;
  /** Where it came from (an URL or a local path). */
  source: string;
  /**
   * `present`: already there with the right sha256; `downloaded`; `resumed`: a `.part` of an
   * earlier run was continued; `replaced`: a file of that name with another sha256 was replaced.
   */
  status: 'present' | 'downloaded' | 'resumed' | 'replaced';
}

export interface PullOptions {
  /** The adapter whose catalogue `set` comes from: its id, metadata schema and member ids go into model_info.json. */
  adapter: BaseModelAdapter;
  /** The models root; files go to `<modelsDir>/<set.directory>/`. */
  modelsDir: string;
  /**
   * A mirror to fetch from instead of the upstream URLs: a base URL or a folder laid out like the
   * models root, so a file is read from `<from>/<set.directory>/<name>`.
   */
  from?: string;
  onProgress?: (progress: PullProgress) => void;
  /** Called once per file when it is in place (or found present). */
  onFile?: (file: PulledFile) => void;
  /** See DownloadOptions. */
  retries?: number;
  retryDelayMs?: number;
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface PullResult {
  set: KnownModelSet;
  /** The set folder, `<modelsDir>/<set.directory>`. */
  directory: string;
  metadataPath: string;
  files: PulledFile[];
  info: ModelInfo;
}

/**
 * Fetches every file of a published set into the models folder and records it in
 * `metadata/model_info.json` (checksums, sizes, source, licence, citation, species), so the set is
 * valid for `models validate` at once. Files already present with the published sha256 are kept;
 * each download is verified and renamed into place atomically (see downloadFile), so an interrupted
 * pull leaves the folder as it was plus resumable `.part` files.
 */
export async function pullModelSet(set: KnownModelSet, options: PullOptions): Promise<PullResult> {
  checkCatalogueEntry(set, options.adapter.id);
  const directory = resolve(options.modelsDir, ...set.directory.split('/'));
  const plan: { file: KnownModelSet['files'][number]; dest: string; source: string; existing: 'none' | 'match' | 'differs' }[] = [];
  for (const file of set.files) {
    const dest = join(directory, file.name);
    plan.push({ file, dest, source: sourceFor(set, file, options.from), existing: await existingState(dest, file) });
  }
  const total = plan.filter((p) => p.existing !== 'match').reduce((n, p) => n + p.file.size, 0);
  let done = 0;
  const files: PulledFile[] = [];
  for (const { file, dest, source, existing } of plan) {
    let pulled: PulledFile;
    if (existing === 'match') {
      pulled = { name: file.name, path: dest, size: file.size, sha256: file.sha256, source: dest, status: 'present' };
    } else {
      const result = await downloadFile({
        source,
        dest,
        sha256: file.sha256,
        size: file.size,
        retries: options.retries,
        retryDelayMs: options.retryDelayMs,
        idleTimeoutMs: options.idleTimeoutMs,
        signal: options.signal,
        onProgress: (p) => options.onProgress?.({ file: file.name, received: done + p.received, total }),
      });
      done += file.size;
      const status = existing === 'differs' ? 'replaced' : result.resumedFrom > 0 ? 'resumed' : 'downloaded';
      pulled = { name: file.name, path: dest, size: result.size, sha256: result.sha256, source, status };
    }
    files.push(pulled);
    options.onFile?.(pulled);
  }

  const metadataPath = join(directory, 'metadata', 'model_info.json');
  const info = await describePulledSet(set, options, files, metadataPath);
  await writeModelInfo(metadataPath, info, options.adapter.metadataSchema);
  return { set, directory, metadataPath, files, info };
}

/** The model_info.json of a pulled set; fields of an earlier one for the same set (golden outputs) are kept. */
async function describePulledSet(set: KnownModelSet, options: PullOptions, files: PulledFile[], metadataPath: string): Promise<ModelInfo> {
  const { adapter } = options;
  const previous = await readModelInfo(metadataPath, adapter.metadataSchema);
  const kept =
    previous.status === 'ok' && previous.info.adapter === adapter.id && previous.info.setName === set.setName && previous.info.context === set.context
      ? previous.info
      : undefined;
  const memberIds = files.map((f) => memberIdOf(adapter, `${set.directory}/${f.name}`, f.name));
  return {
    ...kept,
    ...adapter.describeSet?.({ name: set.setName, context: set.context, memberIds }),
    schemaVersion: MODEL_INFO_SCHEMA_VERSION,
    adapter: adapter.id,
    setName: set.setName,
    context: set.context,
    outputClasses: [...OUTPUT_CLASSES],
    files: files.map((f, i) => ({ path: f.name, sha256: f.sha256, size: f.size, memberId: memberIds[i] })),
    source: {
      url: set.sourceUrl,
      description: options.from ? `pulled from the mirror ${options.from}` : `pulled from ${set.sourceUrl}`,
    },
    license: set.license,
    ...(set.citation ? { citation: set.citation } : {}),
    ...(set.species ? { species: set.species } : {}),
    createdBy: '@metaspliceai/core pull',
  };
}

function memberIdOf(adapter: BaseModelAdapter, relativePath: string, name: string): string {
  try {
    return adapter.parsePath(relativePath).memberId;
  } catch {
    return name.replace(/\.[^.]+$/, '');
  }
}

/** Where one file is read from: the catalogue URL, or the same relative path under the mirror. */
export function sourceFor(set: KnownModelSet, file: { name: string; url: string }, from?: string): string {
  if (from === undefined) return file.url;
  const relativePath = `${set.directory}/${file.name}`;
  if (/^(https?|file):/i.test(from)) {
    const base = from.endsWith('/') ? from : `${from}/`;
    return new URL(relativePath.split('/').map(encodeURIComponent).join('/'), base).href;
  }
  return join(isAbsolute(from) ? from : resolve(from), ...relativePath.split('/'));
}

async function existingState(dest: string, file: { size: number; sha256: string }): Promise<'none' | 'match' | 'differs'> {
  let size: number;
  try {
    size = (await fs.stat(dest)).size;
  } catch {
    return 'none';
  }
  if (size === file.size && (await sha256File(dest)) === file.sha256.toLowerCase()) return 'match';
  return 'differs';
}

/** A catalogue comes from an adapter, maybe a third party's: its paths must stay inside the models folder. */
function checkCatalogueEntry(set: KnownModelSet, adapterId: string): void {
  const bad = (p: string) => p === '' || p.includes('\0') || /^[\\/]/.test(p) || /^[a-zA-Z]:/.test(p) || p.split(/[\\/]/).some((s) => s === '..' || s === '.');
  const where = `${adapterId} catalogue entry ${set.setName} at ${set.context}`;
  if (bad(set.directory)) throw new DownloadError(`${where}: directory "${set.directory}" must be a relative path inside the models folder`);
  if (set.files.length === 0) throw new DownloadError(`${where}: lists no files`);
  for (const f of set.files) {
    if (bad(f.name) || /[\\/]/.test(f.name)) throw new DownloadError(`${where}: file name "${f.name}" must be a plain file name`);
    if (!/^[0-9a-fA-F]{64}$/.test(f.sha256)) throw new DownloadError(`${where}: ${f.name} has no valid sha256`);
  }
}
