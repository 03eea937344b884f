export * from './errors.js';
export * from './adapter/contract.js';
export * from './metadata/schema.js';
export * from './sequence/encoding.js';
