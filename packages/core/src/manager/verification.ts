import { promises as fs } from 'node:fs';
import type { KnownModelSet } from '../adapter/contract.js';
import { type ModelSet, modelSetKey } from '../discovery/model-set.js';
import { MetadataError, ModelFileError } from '../errors.js';
import { resolveInsideSet, sha256File } from '../metadata/model-info.js';

export interface VerifySetOptions {
  /** Make every warning an error: a member that is not the file model_info.json describes is refused. */
  strict?: boolean;
  /** Called once per warning (one line naming the file); the returned list has them too. */
  onWarning?: (message: string) => void;
  /** The adapter's published entry for this set, to notice a hand-copied set that lacks members. */
  published?: KnownModelSet;
}

export interface SetVerification {
  /**
   * The sha256 of each member listed in model_info.json, hashed by this check (path to hex), so
   * a caller that records checksums (score's VCF header) does not hash the weights twice.
   */
  sha256: ReadonlyMap<string, string>;
  /** One line per problem found, each naming the file. */
  warnings: string[];
}

/**
 * Checks a set's files against its `metadata/model_info.json` before anything is loaded, so a set
 * never runs silently on other weights than the ones recorded. A listed member that is missing is
 * always an error: an ensemble of 2 of its 5 members gives other scores under the same name. A
 * member whose size or sha256 differs from the record, a member the record does not list, an
 * unreadable record, or fewer members than the adapter publishes, is a warning, or an error with
 * `strict`.
 */
export async function verifyModelSet(set: ModelSet, options: VerifySetOptions = {}): Promise<SetVerification> {
  const problems: { file: string; text: string }[] = [];
  const warn = (file: string, text: string) => problems.push({ file, text });
  const sha256 = new Map<string, string>();
  const meta = set.metadata;
  const fixHint = `pull the set again (metaspliceai models pull ${set.adapter} --set ${set.name} --context ${set.context}), or, if the files present are the ones you want, re-index them: metaspliceai models index ${set.directory}`;

  if (set.metadataError) {
    warn(set.metadataPath, `the members' checksums cannot be checked: ${set.metadataError.replace(`${set.metadataPath}: `, '')}`);
  } else if (meta && (meta.adapter !== set.adapter || meta.setName !== set.name || meta.context !== set.context)) {
    warn(
      set.metadataPath,
      `describes ${meta.adapter}/${meta.setName}/${meta.context}, not the files found (${modelSetKey(set)}); their checksums cannot be checked`,
    );
  } else if (meta) {
    const byPath = new Map(set.members.map((m) => [m.path, m]));
    const missing: string[] = [];
    const checks: Promise<void>[] = [];
    const listed = new Set<string>();
    for (const entry of meta.files) {
      const full = resolveInsideSet(set.directory, entry.path);
      if (!full) continue; // the schema refuses such paths; validate reports them
      listed.add(full);
      const member = byPath.get(full);
      if (!member) {
        const there = await fs.stat(full).then(
          () => true,
          () => false,
        );
        missing.push(there ? `${entry.path} (present but not a usable ${set.context}-nt member)` : entry.path);
        continue;
      }
      checks.push(
        (async () => {
          if (member.size !== entry.size) {
            warn(member.path, `${member.size} bytes, model_info.json records ${entry.size}; it is not the file that was indexed or pulled`);
            return;
          }
          const actual = await sha256File(member.path);
          sha256.set(member.path, actual);
          if (actual !== entry.sha256) {
            warn(member.path, `sha256 ${actual} differs from ${entry.sha256} in model_info.json; it is not the file that was indexed or pulled`);
          }
        })(),
      );
    }
    if (missing.length > 0) {
      throw new MetadataError(
        set.metadataPath,
        `lists ${missing.length} of its ${meta.files.length} members that are missing: ${missing.join(', ')}; refusing to load an incomplete ${modelSetKey(set)}`,
        { hint: fixHint },
      );
    }
    await Promise.all(checks);
    for (const m of set.members) {
      if (!listed.has(m.path)) warn(m.path, `not listed in ${set.metadataPath}, so its checksum cannot be checked`);
    }
  } else if (options.published && set.members.length < options.published.files.length) {
    warn(
      set.directory,
      `${set.members.length} of the ${options.published.files.length} published ${modelSetKey(set)} members are present, and no model_info.json says which belong`,
    );
  }

  problems.sort((x, y) => (x.file < y.file ? -1 : x.file > y.file ? 1 : 0));
  if (options.strict && problems.length > 0) {
    const [first] = problems;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    throw new ModelFileError(first.file, `${first.text}${more}; strict checking refuses it`, { hint: fixHint });
  }
  const warnings = problems.map((p) => `${p.file}: ${p.text}`);
  for (const w of warnings) options.onWarning?.(w);
  return { sha256, warnings };
}
