import type { MetaModelResource } from './model-set.js';
import type { WalkedFile } from './walk.js';

type SizedFile = WalkedFile & { size: number };

/** The artifact names the MetaSpliceAI meta-learning layer writes. */
const META_MODEL_NAME = /(?:^|\/)(model_multiclass|model_binary|best_model|final_model|calibrated_model)\.(pkl|joblib|onnx)$/;
const MANIFEST_NAME = /(?:^|\/)(feature_manifest|features?|training_schema)\.(json|csv|tsv)$/;

/** Whether a path names a meta-model artifact, feature manifest or training schema. */
export function isMetaModelPath(relativePath: string): boolean {
  return META_MODEL_NAME.test(relativePath) || MANIFEST_NAME.test(relativePath);
}

/** Recognises meta-model artifacts, feature manifests and training schemas by name. */
export function matchMetaModel(file: SizedFile): MetaModelResource | undefined {
  const model = META_MODEL_NAME.exec(file.relativePath);
  if (model) {
    const ext = model[2];
    const format = ext === 'onnx' ? 'onnx' : ext === 'pkl' ? 'pickle' : 'joblib';
    return { kind: model[1], path: file.path, relativePath: file.relativePath, format, size: file.size };
  }
  const manifest = MANIFEST_NAME.exec(file.relativePath);
  if (manifest) {
    const kind = manifest[1] === 'training_schema' ? 'training_schema' : 'feature_manifest';
    return { kind, path: file.path, relativePath: file.relativePath, format: manifest[2] as 'json', size: file.size };
  }
  return undefined;
}
