/**
 * A safe, pure-TypeScript reader for PyTorch `.pt` state_dict files: no Python, no torch, and no
 * code from the file is ever run (the pickle is interpreted against a short allowlist).
 */
export { readStateDict, readStateDictIndex, toFloat32, type StateDictTensor, type TensorInfo } from './state-dict.js';
export type { TensorData, TensorDtype } from './dtypes.js';
