export * from './sites.js';
export * from './genes.js';
export * from './sampling.js';
export * from './labels.js';
export * from './metrics.js';
export * from './ranking.js';
export * from './tables.js';
export * from './runner.js';
