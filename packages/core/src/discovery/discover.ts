import { promises as fs } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import type { BaseModelAdapter, PathHints } from '../adapter/contract.js';
import { MetaSpliceAIError, ModelNotFoundError } from '../errors.js';
import { readModelInfo } from '../metadata/model-info.js';
import { isMetaModelPath, matchMetaModel } from './meta-models.js';
import type { DiscoveryProblem, DiscoveryResult, MetaModelResource, ModelSet, ModelSetMember } from './model-set.js';
import { type WalkedFile, walkFiles } from './walk.js';

type SizedFile = WalkedFile & { size: number };

export interface DiscoverOptions {
  /** Read each matched file's weights for its context (default true). Without it, names decide. */
  inspect?: boolean;
  /**
   * The folder paths are named from, at or above `root` (default `root`): adapters read set names
   * from them, so walking one set folder of a larger tree names its sets as walking the tree does.
   */
  namesFrom?: string;
}

/** Files inspected at once: inspection is mostly small reads, so a few in flight hide latency. */
const INSPECT_CONCURRENCY = 8;

/**
 * Walks `root`, matches every file against the registered adapters, inspects matches, and groups
 * them into model sets, one per (adapter, set name, context). Never throws for a bad file: bad
 * files become `problems`, or members with an `error` that validation reports.
 */
export async function discoverModels(root: string, adapters: readonly BaseModelAdapter[], options: DiscoverOptions = {}): Promise<DiscoveryResult> {
  await checkModelsFolder(root);
  const { files, problems: walkProblems } = await walkFiles(root, options.namesFrom);
  const problems: DiscoveryProblem[] = [...walkProblems];
  const metaModels: MetaModelResource[] = [];
  const matched: { file: SizedFile; adapter: BaseModelAdapter; hints: PathHints }[] = [];

  for (const walked of files) {
    if (walked.relativePath.split('/').includes('metadata')) continue;
    const isMeta = isMetaModelPath(walked.relativePath);
    const owners = isMeta ? [] : adapters.filter((a) => a.filePatterns.some((re) => re.test(walked.relativePath)));
    if (!isMeta && owners.length === 0) continue;
    const file = await sized(walked, problems);
    if (!file) continue;
    if (isMeta) {
      metaModels.push(matchMetaModel(file)!);
      continue;
    }
    if (owners.length > 1) {
      problems.push({
        path: file.path,
        kind: 'ambiguous-adapter',
        message: `${file.relativePath} matches the patterns of several adapters (${owners.map((a) => a.id).join(', ')}); using ${owners[0].id}`,
      });
    }
    matched.push({ file, adapter: owners[0], hints: owners[0].parsePath(file.relativePath) });
  }

  const members: { adapter: string; setName: string; member: ModelSetMember; license?: string }[] = [];
  await forEachLimited(matched, INSPECT_CONCURRENCY, async ({ file, adapter, hints }) => {
    const member: ModelSetMember = {
      memberId: hints.memberId,
      path: file.path,
      relativePath: file.relativePath,
      size: file.size,
      context: hints.context ?? 0,
      contextHint: hints.context,
    };
    if (options.inspect !== false) {
      try {
        member.inspection = await adapter.inspect(file.path);
        member.context = member.inspection.context;
      } catch (error) {
        member.error = MetaSpliceAIError.isInstance(error)
          ? { code: error.code, message: error.message }
          : { code: 'E_MODEL_FILE', message: `${file.path}: ${error instanceof Error ? error.message : String(error)}` };
        problems.push({ path: file.path, kind: 'inspection-failed', message: member.error.message });
      }
    }
    if (member.context === 0) {
      problems.push({
        path: file.path,
        kind: 'no-context',
        message: `${file.relativePath}: the context could not be read from the weights or the name; the file is left out`,
      });
      return;
    }
    members.push({ adapter: adapter.id, setName: hints.setName, member, license: adapter.defaultLicense });
  });

  const sets = new Map<string, ModelSet>();
  for (const { adapter, setName, member, license } of members) {
    const key = `${adapter}\u0000${setName}\u0000${member.context}`;
    let set = sets.get(key);
    if (!set) {
      set = { adapter, name: setName, context: member.context, directory: '', files: [], members: [], license, metadataPath: '' };
      sets.set(key, set);
    }
    set.members.push(member);
  }
  const modelSets = [...sets.values()];
  for (const set of modelSets) {
    set.members.sort((a, b) => compareStrings(a.path, b.path));
    set.files = set.members.map((m) => m.path);
    set.directory = commonDirectory(set.files);
    set.metadataPath = join(set.directory, 'metadata', 'model_info.json');
    const inspected = set.members.find((m) => m.inspection)?.inspection;
    set.architecture = inspected?.architecture;
    set.parameterCount = inspected?.parameterCount;
    const info = await readModelInfo(set.metadataPath);
    if (info.status === 'ok') {
      set.metadata = info.info;
      set.license = info.info.license ?? set.license;
    } else if (info.status === 'invalid') {
      set.metadataError = info.message;
    }
  }
  modelSets.sort((a, b) => compareStrings(a.adapter, b.adapter) || compareStrings(a.name, b.name) || a.context - b.context);
  return { root, modelSets, metaModels, problems, filesScanned: files.length };
}

/**
 * The models folder itself must be there and readable: reporting "none found" in a folder that is
 * missing or unreadable would send the user looking for models instead of fixing the path.
 */
async function checkModelsFolder(root: string): Promise<void> {
  const elsewhere = 'point --models-dir (or METASPLICEAI_MODELS_DIR) at the folder that holds your models';
  try {
    if (!(await fs.stat(root)).isDirectory()) {
      throw new ModelNotFoundError(`the models folder ${root} is not a folder`, { hint: elsewhere });
    }
    await fs.readdir(root);
  } catch (error) {
    if (MetaSpliceAIError.isInstance(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ModelNotFoundError(`the models folder ${root} does not exist`, {
        cause: error,
        hint: `${elsewhere}, or download a set into it with: metaspliceai models pull <adapter>`,
      });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new ModelNotFoundError(`cannot read the models folder ${root}: permission denied`, {
        cause: error,
        hint: `give your user read and search permission on it (chmod u+rx), or ${elsewhere}`,
      });
    }
    throw new ModelNotFoundError(`cannot read the models folder ${root}: ${(error as Error).message}`, { cause: error, hint: elsewhere });
  }
}

/** Stats a matched file; an unreadable one becomes a problem. */
async function sized(file: WalkedFile, problems: DiscoveryProblem[]): Promise<SizedFile | undefined> {
  try {
    return { ...file, size: (await fs.stat(file.path)).size };
  } catch (error) {
    problems.push({ path: file.path, kind: 'unreadable', message: `${file.relativePath}: ${(error as Error).message}` });
    return undefined;
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function commonDirectory(paths: string[]): string {
  let common = dirname(paths[0]).split(sep);
  for (const p of paths.slice(1)) {
    const parts = dirname(p).split(sep);
    let i = 0;
    while (i < common.length && i < parts.length && common[i] === parts[i]) i++;
    common = common.slice(0, i);
  }
  return common.join(sep) || sep;
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}
