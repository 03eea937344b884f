import { describe, expect, it } from 'vitest';
import type { LoadedModel } from '@metaspliceai/core';
import { VariantScorer, type VariantScorerOptions } from '../src/index.js';
import type { FastaReader } from '../src/io/fasta.js';

/** Options whose objects are never reached: the schema refuses the bad value first. */
const base = { model: {} as LoadedModel, fasta: {} as FastaReader, annotation: { source: 'test', rows: [] } } as unknown as VariantScorerOptions;

describe('VariantScorer checks its options through variantScorerOptionsSchema', () => {
  it.each([
    [{ dist: 5000 }, 'VariantScorer: dist must be a whole number from 0 to 4999, got 5000'],
    [{ precision: -1 }, 'VariantScorer: precision must be a whole number from 0 to 20, got -1'],
    [{ batchSize: 0 }, 'VariantScorer: batchSize must be a whole number of at least 1, got 0'],
    [{ encoding: 'utf8' }, 'VariantScorer: encoding must be spliceai or acgt, got "utf8"'],
    [{ mask: 1 }, 'VariantScorer: mask must be true or false, got 1'],
    [{ fasta: undefined }, 'VariantScorer: fasta must be an open FASTA reader (openFasta), got undefined'],
  ])('%j', (bad, message) => {
    let error: unknown;
    try {
      new VariantScorer({ ...base, ...bad } as VariantScorerOptions);
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).toBe('E_INVALID_ARGUMENT');
    expect((error as Error).message).toBe(message);
  });
});
