/**
 * `downloadFile` and `pullModelSet` options as zod schemas, checked with the shared message
 * before any byte is fetched.
 */
import { callback, objectOf, optionsObject, text, wholeNumber } from '../config/options.js';

const retryFields = {
  retries: wholeNumber({ min: 0 }).optional(),
  retryDelayMs: wholeNumber({ min: 0 }).optional(),
  idleTimeoutMs: wholeNumber({ min: 1 }).optional(),
  signal: objectOf<AbortSignal>('an AbortSignal').optional(),
};

export const downloadOptionsSchema = optionsObject({
  source: text('an http(s) URL or a file path'),
  dest: text('a file path'),
  sha256: text('64 hex digits'),
  size: wholeNumber({ min: 0 }).optional(),
  onProgress: callback().optional(),
  ...retryFields,
});

export const pullOptionsSchema = optionsObject({
  adapter: objectOf('a registered adapter'),
  modelsDir: text('a folder path'),
  from: text('a URL or a folder').optional(),
  onProgress: callback().optional(),
  onFile: callback().optional(),
  ...retryFields,
});
