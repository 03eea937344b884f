export { createPangolinAdapter, PANGOLIN_LICENSE, type PangolinAdapterOptions } from './adapter.js';
export { PANGOLIN_DILATIONS, PANGOLIN_KERNELS, readPangolinArchitecture, type PangolinArchitecture, type PangolinBlock } from './architecture.js';
export { PANGOLIN_BN_EPSILON, recordPangolinNetwork } from './network.js';
export { PANGOLIN_CATALOGUE, PANGOLIN_CITATION } from './catalogue.js';
export { pangolinModelInfoSchema, type PangolinModelInfo } from './metadata.js';
export { PANGOLIN_FILE_PATTERNS, parsePangolinFileName, parsePangolinPath } from './paths.js';
export { PANGOLIN_HEADS, PANGOLIN_TISSUES, PANGOLIN_TRACKS, type PangolinHead, type PangolinTissue } from './tracks.js';
