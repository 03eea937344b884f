import { describe, expect, it } from 'vitest';
import { createLookupServer, LookupEngine, type LookupEngineOptions, type LookupServerOptions } from '../src/index.js';

describe("server options go through zod schemas with core's shared message", () => {
  it('LookupEngine names the bad option before touching the model', () => {
    const base = { model: {}, genomes: [] } as unknown as LookupEngineOptions;
    expect(() => new LookupEngine({ ...base, batchSize: 0 })).toThrow('LookupEngine: batchSize must be a whole number of at least 1, got 0');
    expect(() => new LookupEngine({ ...base, precision: 21 })).toThrow('LookupEngine: precision must be a whole number from 0 to 20, got 21');
  });

  it('createLookupServer refuses a bad limit with InvalidArgumentError', () => {
    let error: unknown;
    try {
      createLookupServer({} as LookupEngine, { bodyLimit: 0 } as LookupServerOptions);
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).toBe('E_INVALID_ARGUMENT');
    expect((error as Error).message).toBe('createLookupServer: bodyLimit must be a whole number of at least 1, got 0');
  });
});
