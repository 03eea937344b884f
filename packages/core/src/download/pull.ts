import { promises as fs } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { type BaseModelAdapter, type KnownModelSet } from '../adapter/contract.js';
import { parseOptions } from '../config/options.js';
import { DownloadError } from '../errors.js';
import { readModelInfo, sha256File, trackFields, writeModelInfo } from '../metadata/model-info.js';
import { MODEL_INFO_SCHEMA_VERSION, type ModelInfo } from '../metadata/schema.js';
import { PULL_STAGING_DIR } from '../discovery/walk.js';
import { syncFolder } from '../io/atomic-file.js';
import { downloadFile, partPath } from './download.js';
import { pullOptionsSchema } from './options.js';

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
   * earlier run was continued, or a file an earlier, unfinished pull verified was kept;
   * `replaced`: a file of that name with another sha256 was replaced.
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
 * valid for `models validate` at once.
 *
 * The set appears whole or not at all: every missing or different file is downloaded into a
 * hidden staging folder (`<modelsDir>/.metaspliceai-pull/<set.directory>/`, which discovery never
 * walks), each verified against the published size and sha256, and only when all are good is the
 * set moved into place. A pull that fails part-way (a mirror missing a file, a corrupt file, a
 * dropped connection) therefore adds nothing under the models folder and leaves an earlier set
 * there untouched; the verified files and resumable `.part` files it staged are reused by the
 * next run. Files already in place with the published sha256 are kept.
 */
export async function pullModelSet(set: KnownModelSet, options: PullOptions): Promise<PullResult> {
  parseOptions(pullOptionsSchema, options, { owner: 'pullModelSet' });
  checkCatalogueEntry(set, options.adapter.id);
  const directory = resolve(options.modelsDir, ...set.directory.split('/'));
  const staging = stagingDirectory(options.modelsDir, set.directory);
  const release = await lockStaging(staging, `${options.adapter.id} ${set.setName} at ${set.context}`);
  try {
    return await pullLocked(set, options, directory, staging);
  } finally {
    await release();
    await removeEmptyFolders(staging, stagingRoot(options.modelsDir));
  }
}

async function pullLocked(set: KnownModelSet, options: PullOptions, directory: string, staging: string): Promise<PullResult> {
  const plan: PlannedFile[] = [];
  for (const file of set.files) {
    const dest = join(directory, file.name);
    const staged = join(staging, file.name);
    const existing = await existingState(dest, file);
    await adoptLegacyPart(dest, staged, existing);
    plan.push({
      file,
      dest,
      staged,
      source: sourceFor(set, file, options.from),
      existing,
      stagedState: existing === 'match' ? 'none' : await existingState(staged, file),
    });
  }
  const total = plan.filter((p) => p.existing !== 'match' && p.stagedState !== 'match').reduce((n, p) => n + p.file.size, 0);
  let done = 0;
  const files: PulledFile[] = [];
  for (const { file, dest, staged, source, existing, stagedState } of plan) {
    let pulled: PulledFile;
    if (existing === 'match') {
      pulled = { name: file.name, path: dest, size: file.size, sha256: file.sha256, source: dest, status: 'present' };
    } else if (stagedState === 'match') {
      // Verified by an earlier run that stopped before the whole set was there.
      pulled = {
        name: file.name,
        path: dest,
        size: file.size,
        sha256: file.sha256.toLowerCase(),
        source,
        status: existing === 'differs' ? 'replaced' : 'resumed',
      };
    } else {
      if (stagedState === 'differs') await fs.rm(staged, { force: true });
      const result = await downloadFile({
        source,
        dest: staged,
        sha256: file.sha256,
        size: file.size,
        retries: options.retries,
        retryDelayMs: options.retryDelayMs,
        idleTimeoutMs: options.idleTimeoutMs,
        signal: options.signal,
        onProgress: (p) => options.onProgress?.({ file: file.name, received: done + p.received, total }),
      }).catch((error: unknown) => {
        throw DownloadError.isInstance(error) ? renameInMessage(error, staged, dest) : error;
      });
      done += file.size;
      const status = existing === 'differs' ? 'replaced' : result.resumedFrom > 0 ? 'resumed' : 'downloaded';
      pulled = { name: file.name, path: dest, size: result.size, sha256: result.sha256, source, status };
    }
    files.push(pulled);
    options.onFile?.(pulled);
  }

  // Every file is verified: describe the set, then move it into place.
  const metadataPath = join(directory, 'metadata', 'model_info.json');
  const info = await describePulledSet(set, options, files, metadataPath);
  await installStagedSet(plan, { directory, staging, metadataPath, info, schema: options.adapter.metadataSchema });
  return { set, directory, metadataPath, files, info };
}

/** The hidden folder under a models root where pulls stage their files; discovery skips it. */
export function stagingRoot(modelsDir: string): string {
  return join(resolve(modelsDir), PULL_STAGING_DIR);
}

/** Where the files of one set are staged until the whole set is verified. */
export function stagingDirectory(modelsDir: string, setDirectory: string): string {
  return join(stagingRoot(modelsDir), ...setDirectory.split('/'));
}

interface PlannedFile {
  file: KnownModelSet['files'][number];
  /** The final path under the models folder. */
  dest: string;
  /** The verified copy in the staging folder. */
  staged: string;
  source: string;
  existing: FileState;
  stagedState: FileState;
}

type FileState = 'none' | 'match' | 'differs';

/**
 * Moves a verified set into place. A set folder that does not exist yet is staged complete with
 * its model_info.json and renamed in one step. Into an existing folder (an earlier or partial set,
 * maybe with the user's own files) model_info.json is written first and the files are renamed in
 * one by one: should the process die between two renames, model_info.json already lists files that
 * are missing or differ, which loading and `models validate` refuse, instead of a silent mix.
 */
async function installStagedSet(
  plan: PlannedFile[],
  target: { directory: string; staging: string; metadataPath: string; info: ModelInfo; schema: BaseModelAdapter['metadataSchema'] },
): Promise<void> {
  const incoming = plan.filter((p) => p.existing !== 'match');
  if (!(await exists(target.directory))) {
    // Only the set goes into place: not what earlier pulls left in staging (`.part` files of files
    // the catalogue no longer lists, an old metadata folder).
    const keep = new Set(plan.map((p) => p.file.name));
    for (const entry of await fs.readdir(target.staging)) {
      if (!keep.has(entry)) await fs.rm(join(target.staging, entry), { recursive: true, force: true });
    }
    await writeModelInfo(join(target.staging, 'metadata', 'model_info.json'), target.info, target.schema);
    await fs.mkdir(dirname(target.directory), { recursive: true });
    await fs.rename(target.staging, target.directory);
    await syncFolder(dirname(target.directory));
    return;
  }
  await writeModelInfo(target.metadataPath, target.info, target.schema);
  for (const p of incoming) await fs.rename(p.staged, p.dest);
  await syncFolder(target.directory);
}

/**
 * A `.part` beside the final name is what pulls before staging left behind: move it into the
 * staging folder so its bytes are resumed rather than fetched again.
 */
async function adoptLegacyPart(dest: string, staged: string, existing: FileState): Promise<void> {
  const legacy = partPath(dest);
  if (existing === 'match' || !(await exists(legacy)) || (await exists(partPath(staged)))) return;
  await fs.mkdir(dirname(staged), { recursive: true });
  await fs.rename(legacy, partPath(staged));
}

/**
 * One pull per set at a time: two would append to the same `.part` files. The lock file beside the
 * staging folder holds the pid; a lock whose process is gone (killed, crashed) is taken over.
 */
async function lockStaging(staging: string, what: string): Promise<() => Promise<void>> {
  const lock = `${staging}.lock`;
  await fs.mkdir(dirname(lock), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.writeFile(lock, `${process.pid}\n`, { flag: 'wx' });
      return () => fs.rm(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const pid = Number((await fs.readFile(lock, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) {
      throw new DownloadError(`another pull of ${what} is running (process ${pid}); it stages its files in ${staging}`, {
        hint: `wait for it to finish; if no such pull is running, delete ${lock}`,
      });
    }
    await fs.rm(lock, { force: true }); // left by a pull that died: take it over
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, but another user's
  }
}

/** Error messages name the file the user asked for, not its staging copy (hints keep the `.part` path). */
function renameInMessage(error: DownloadError, staged: string, dest: string): DownloadError {
  if (!error.message.startsWith(`${staged}:`)) return error;
  return new DownloadError(`${dest}:${error.message.slice(staged.length + 1)}`, { cause: error.cause, hint: error.hint });
}

/** Removes `from` and its parents up to and including `root`, as long as they are empty. */
async function removeEmptyFolders(from: string, root: string): Promise<void> {
  let dir = from;
  for (;;) {
    try {
      await fs.rmdir(dir);
    } catch (error) {
      // Gone already (renamed into place) is fine; not empty (another set's staged files) stops here.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return;
    }
    if (dir === root) return;
    const parent = dirname(dir);
    if (parent === dir || !parent.startsWith(root)) return;
    dir = parent;
  }
}

async function exists(path: string): Promise<boolean> {
  return fs.stat(path).then(
    () => true,
    () => false,
  );
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
    ...trackFields(adapter),
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

async function existingState(dest: string, file: { size: number; sha256: string }): Promise<FileState> {
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
