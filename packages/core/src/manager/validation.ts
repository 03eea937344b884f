import { promises as fs } from 'node:fs';
import { relative } from 'node:path';
import type { BaseModelAdapter } from '../adapter/contract.js';
import { type DiscoveryResult, type ModelSet, modelSetKey } from '../discovery/model-set.js';
import { readModelInfo, resolveInsideSet, sha256File } from '../metadata/model-info.js';
import { describeContexts } from './selection.js';

export interface ValidationIssue {
  severity: 'error' | 'warning';
  code:
    | 'unreadable-member'
    | 'context-mismatch'
    | 'members-disagree'
    | 'unknown-context'
    | 'incomplete-ensemble'
    | 'metadata-invalid'
    | 'metadata-mismatch'
    | 'missing-member'
    | 'extra-member'
    | 'size-mismatch'
    | 'checksum-mismatch'
    | 'no-model'
    | 'tree-problem'
    | 'meta-model';
  message: string;
  path?: string;
}

export interface SetValidationReport {
  adapter: string;
  setName: string;
  context: number;
  valid: boolean;
  issues: ValidationIssue[];
  recommendations: string[];
}

export interface ValidationReport {
  root: string;
  valid: boolean;
  sets: SetValidationReport[];
  /** Problems of the tree itself (unreadable files, symlink loops) and of the request. */
  issues: ValidationIssue[];
  recommendations: string[];
}

export interface ValidateOptions {
  /** Only sets of this adapter. */
  adapter?: string;
  /** Only sets of this context; when none exists the report says which do. */
  context?: number;
  setName?: string;
  /** Hash every member and compare with model_info.json (default true). */
  checksums?: boolean;
}

/** Builds the validation report from a discovery result. Reads files only to hash them. */
export async function validateDiscovery(
  discovery: DiscoveryResult,
  adapters: ReadonlyMap<string, BaseModelAdapter>,
  options: ValidateOptions = {},
): Promise<ValidationReport> {
  const issues: ValidationIssue[] = discovery.problems
    .filter((p) => p.kind !== 'inspection-failed')
    .map((p) => ({ severity: p.kind === 'ambiguous-adapter' ? 'warning' : 'error', code: 'tree-problem', message: p.message, path: p.path }));
  const recommendations: string[] = [];
  const selected = discovery.modelSets.filter(
    (s) =>
      (!options.adapter || s.adapter === options.adapter) &&
      (!options.setName || s.name === options.setName) &&
      (options.context === undefined || s.context === options.context),
  );
  if (selected.length === 0) {
    issues.push({ severity: 'error', code: 'no-model', message: describeMissing(discovery, options) });
    const adapter = options.adapter ? adapters.get(options.adapter) : undefined;
    if (adapter?.catalogue?.length) {
      recommendations.push(`download a published set with: metaspliceai models pull ${adapter.id}`);
    }
  }
  if (!options.adapter) issues.push(...validateMetaModels(discovery, recommendations));
  const sets: SetValidationReport[] = [];
  for (const set of selected) sets.push(await validateSet(set, discovery, adapters.get(set.adapter), options));
  for (const adapter of adapters.values()) {
    if (!options.adapter && !discovery.modelSets.some((s) => s.adapter === adapter.id)) {
      recommendations.push(
        `no ${adapter.id} models under ${discovery.root}${adapter.catalogue?.length ? `; get them with: metaspliceai models pull ${adapter.id}` : ''}`,
      );
    }
  }
  const valid = sets.every((s) => s.valid) && !issues.some((i) => i.severity === 'error');
  return { root: discovery.root, valid, sets, issues, recommendations };
}

/**
 * Meta-model artifacts: ONNX ones are what MetaSpliceAI loads; pickle and joblib files are listed
 * but never loaded, because unpickling runs code from the file. Empty files are broken downloads.
 */
function validateMetaModels(discovery: DiscoveryResult, recommendations: string[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const artifact of discovery.metaModels) {
    if (artifact.size === 0) {
      issues.push({ severity: 'error', code: 'meta-model', message: `${artifact.relativePath} is empty (an interrupted copy?)`, path: artifact.path });
    } else if (artifact.format === 'pickle' || artifact.format === 'joblib') {
      issues.push({
        severity: 'warning',
        code: 'meta-model',
        message: `${artifact.relativePath} is a ${artifact.format} file: listed, never loaded (unpickling runs code from the file)`,
        path: artifact.path,
      });
      recommendations.push(`export ${artifact.kind} to ONNX (e.g. skl2onnx or onnxmltools) so it can be loaded safely`);
    }
  }
  return issues;
}

/** "no openspliceai model for context 5000; available: openspliceai-mane at 80, 400, 2000, 10000". */
export function describeMissing(discovery: DiscoveryResult, query: { adapter?: string; context?: number; setName?: string }): string {
  const what = [query.adapter ?? 'base', 'model'].join(' ');
  const where = [query.setName && `in set ${query.setName}`, query.context !== undefined && `for context ${query.context}`].filter(Boolean).join(' ');
  const candidates = discovery.modelSets.filter((s) => !query.adapter || s.adapter === query.adapter);
  return `no ${what}${where ? ` ${where}` : ''} under ${discovery.root}; ${describeAvailable(candidates)}`;
}

/** Lists sets as "name at 80, 400, 2000, 10000", grouped by adapter and name. */
export function describeAvailable(sets: readonly ModelSet[]): string {
  if (sets.length === 0) return 'none found';
  return `available: ${describeContexts(sets.map((s) => ({ name: s.adapter === s.name ? s.name : `${s.adapter} ${s.name}`, context: s.context })))}`;
}

async function validateSet(
  set: ModelSet,
  discovery: DiscoveryResult,
  adapter: BaseModelAdapter | undefined,
  options: ValidateOptions,
): Promise<SetValidationReport> {
  const issues: ValidationIssue[] = [];
  const recommendations: string[] = [];
  const error = (code: ValidationIssue['code'], message: string, path?: string) => issues.push({ severity: 'error', code, message, path });
  const warn = (code: ValidationIssue['code'], message: string, path?: string) => issues.push({ severity: 'warning', code, message, path });

  for (const m of set.members) {
    if (m.error) error('unreadable-member', m.error.message, m.path);
    if (m.contextHint !== undefined && m.inspection && m.contextHint !== m.inspection.context) {
      error('context-mismatch', `${m.relativePath}: the name says context ${m.contextHint} but the weights are a ${m.inspection.context} model`, m.path);
    }
  }
  const siblings = discovery.modelSets.filter((s) => s !== set && s.adapter === set.adapter && s.name === set.name && s.directory === set.directory);
  for (const s of siblings) {
    error(
      'members-disagree',
      `members in ${set.directory} disagree on context: ${set.members.length} at ${set.context}, ${s.members.length} at ${s.context} (${s.members.map((m) => m.memberId).join(', ')})`,
    );
  }
  if (adapter && !adapter.capabilities.contexts.includes(set.context)) {
    warn('unknown-context', `context ${set.context} is not one ${adapter.displayName} is published at (${adapter.capabilities.contexts.join(', ')})`);
  }
  const published = adapter?.catalogue?.find((k) => k.setName === set.name && k.context === set.context);
  if (published && set.members.length < published.files.length) {
    warn('incomplete-ensemble', `${set.members.length} of the ${published.files.length} published members are present`);
    recommendations.push(`complete the ensemble with: metaspliceai models pull ${set.adapter} --set ${set.name} --context ${set.context}`);
  }

  const info = await readModelInfo(set.metadataPath, adapter?.metadataSchema);
  if (info.status === 'missing') {
    recommendations.push(`record checksums and provenance with: metaspliceai models index ${set.directory}`);
  } else if (info.status === 'invalid') {
    error('metadata-invalid', info.message, set.metadataPath);
  } else {
    const meta = info.info;
    if (meta.adapter !== set.adapter || meta.setName !== set.name || meta.context !== set.context) {
      error(
        'metadata-mismatch',
        `${set.metadataPath} describes ${meta.adapter}/${meta.setName}/${meta.context}, the files are ${modelSetKey(set)}`,
        set.metadataPath,
      );
    }
    const listed = new Set<string>();
    for (const entry of meta.files) {
      const full = resolveInsideSet(set.directory, entry.path);
      if (!full) {
        error('metadata-invalid', `${set.metadataPath}: file path ${JSON.stringify(entry.path)} leaves the set folder`, set.metadataPath);
        continue;
      }
      listed.add(full);
      const member = set.members.find((m) => m.path === full);
      if (!member) {
        const exists = await fs.stat(full).then(
          () => true,
          () => false,
        );
        error('missing-member', `${entry.path} is listed in model_info.json but ${exists ? 'is not a usable member' : 'is missing'}`, full);
        continue;
      }
      if (member.size !== entry.size) {
        error('size-mismatch', `${member.relativePath} is ${member.size} bytes, model_info.json says ${entry.size}`, full);
      } else if (options.checksums !== false) {
        const actual = await sha256File(full).catch(() => undefined);
        if (actual !== entry.sha256) {
          error('checksum-mismatch', `${member.relativePath}: sha256 ${actual ?? 'unreadable'} differs from model_info.json's ${entry.sha256}`, full);
        }
      }
    }
    for (const m of set.members) {
      if (!listed.has(m.path)) warn('extra-member', `${relative(set.directory, m.path)} is not listed in model_info.json`, m.path);
    }
    if (issues.some((i) => i.code === 'extra-member' || i.code === 'missing-member')) {
      recommendations.push(`after checking the files, refresh the metadata with: metaspliceai models index ${set.directory}`);
    }
  }
  return {
    adapter: set.adapter,
    setName: set.name,
    context: set.context,
    valid: !issues.some((i) => i.severity === 'error'),
    issues,
    recommendations,
  };
}
