export { createLookupServer, lookupServerOptionsSchema, parseQuery, type LookupServerOptions, type HealthExtras } from './app.js';
export {
  LookupEngine,
  LookupAbortedError,
  MAX_DISTANCE,
  RESPONSE_SCHEMA,
  transcriptPriority,
  type LookupEngineOptions,
  type LookupGenome,
  type LookupModel,
  type LookupQuery,
} from './engine.js';
export { ScoreCache, cacheKey, type CacheKeyParts, type CachedAnswer } from './cache.js';
export { parseLookupVariant, formatLookupVariant, type LookupVariant } from './variant-text.js';
export { openLookupGenome, lookupModelFrom } from './setup.js';
export { PangolinLookup, openPangolinGenome, type PangolinLookupGenome } from './pangolin.js';
