export { createOpenSpliceAIAdapter, OPENSPLICEAI_LICENSE, type OpenSpliceAIAdapterOptions } from './adapter.js';
export { OPENSPLICEAI_ARCHITECTURES, readArchitecture, type OpenSpliceAIArchitecture, type OpenSpliceAIStep } from './architecture.js';
export { buildOpenSpliceAIGraph, OPENSPLICEAI_BN_EPSILON, OPENSPLICEAI_LEAKY_SLOPE } from './network.js';
export { OPENSPLICEAI_CATALOGUE } from './catalogue.js';
export { openSpliceAIModelInfoSchema, type OpenSpliceAIModelInfo } from './metadata.js';
export { OPENSPLICEAI_FILE_PATTERNS, parseOpenSpliceAIPath } from './paths.js';
export { readStateDict, readStateDictIndex, toFloat32, type StateDictTensor, type TensorInfo } from '@metaspliceai/torch';
