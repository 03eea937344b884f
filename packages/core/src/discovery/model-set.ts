import type { ModelFileInspection } from '../adapter/contract.js';
import type { ModelInfo } from '../metadata/schema.js';

/** One file of a model set (an ensemble member). */
export interface ModelSetMember {
  memberId: string;
  path: string;
  /** Relative to the models root. */
  relativePath: string;
  size: number;
  /** The context read from the weights, or the path's hint when the file could not be inspected. */
  context: number;
  /** The context the path suggested, when it suggested one. */
  contextHint?: number;
  inspection?: ModelFileInspection;
  /** Why inspection failed; such a member makes its set invalid. */
  error?: { code: string; message: string };
}

/** An ensemble: the files of one adapter, set name and context. */
export interface ModelSet {
  adapter: string;
  name: string;
  context: number;
  /** The folder holding the members (their common parent). */
  directory: string;
  /** Member paths, sorted. */
  files: string[];
  members: ModelSetMember[];
  architecture?: string;
  /** Parameters of one member. */
  parameterCount?: number;
  license?: string;
  metadataPath: string;
  /** The parsed `metadata/model_info.json`, when present and valid. */
  metadata?: ModelInfo;
  metadataError?: string;
}

/** A MetaSpliceAI meta-model artifact (model_multiclass, best_model, ...). */
export interface MetaModelResource {
  kind: string;
  path: string;
  relativePath: string;
  format: 'onnx' | 'pickle' | 'joblib' | 'json' | 'csv' | 'tsv' | 'other';
  size: number;
}

export interface DiscoveryProblem {
  path: string;
  kind: 'unreadable' | 'symlink-loop' | 'broken-symlink' | 'inspection-failed' | 'no-context' | 'ambiguous-adapter';
  message: string;
}

export interface DiscoveryResult {
  root: string;
  modelSets: ModelSet[];
  metaModels: MetaModelResource[];
  problems: DiscoveryProblem[];
  /** How many files were walked (matched or not). */
  filesScanned: number;
}

/** `adapter/name/context`, the key users type and reports print. */
export function modelSetKey(set: Pick<ModelSet, 'adapter' | 'name' | 'context'>): string {
  return `${set.adapter}/${set.name}/${set.context}`;
}
