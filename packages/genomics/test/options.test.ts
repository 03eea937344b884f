import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { LoadedModel } from '@metaspliceai/core';
import {
  createPredictionWriter,
  type EvaluateOptions,
  PangolinScorer,
  type PangolinScorerOptions,
  type PredictionWriterOptions,
  runEvaluation,
  SequenceInference,
  type SequenceInferenceOptions,
  VariantScorer,
  type VariantScorerOptions,
} from '../src/index.js';
import type { FastaReader } from '../src/io/fasta.js';

/** Options whose objects are never reached: the schema refuses the bad value first. */
const base = { model: {} as LoadedModel, fasta: {} as FastaReader, annotation: { source: 'test', rows: [] } } as unknown as VariantScorerOptions;

describe('VariantScorer checks its options through variantScorerOptionsSchema', () => {
  it.each([
    [{ dist: 10001 }, 'VariantScorer: dist must be a whole number from 0 to 10000, got 10001'],
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

describe('SequenceInference checks its options through sequenceInferenceOptionsSchema', () => {
  it.each([
    [{ tileSize: 0 }, 'SequenceInference: tileSize must be a whole number of at least 1, got 0'],
    [{ batchSize: 2.5 }, 'SequenceInference: batchSize must be a whole number of at least 1, got 2.5'],
    [{ threads: 0 }, 'SequenceInference: threads must be a whole number of at least 1, got 0'],
    [{ device: 'tpu' }, 'SequenceInference: device must be cpu or gpu, got "tpu"'],
    [{ contextWindow: -2 }, 'SequenceInference: contextWindow must be a whole number of at least 1, got -2'],
  ])('%j', (bad, message) => {
    expect(() => new SequenceInference(bad as SequenceInferenceOptions)).toThrow(message);
  });
});

describe('createPredictionWriter checks its options through predictionWriterOptionsSchema', () => {
  it.each([
    [{ threshold: 1.5 }, 'createPredictionWriter: threshold must be a probability from 0 to 1, got 1.5'],
    [{ digits: 0 }, 'createPredictionWriter: digits must be a whole number from 1 to 17, got 0'],
    [{ header: 'no' }, 'createPredictionWriter: header must be true or false, got "no"'],
  ])('%j', (bad, message) => {
    expect(() => createPredictionWriter('tsv', new PassThrough(), bad as PredictionWriterOptions)).toThrow(message);
  });
});

describe('runEvaluation checks its options through evaluateOptionsSchema', () => {
  const ok = { fasta: {}, annotation: 'genes.gtf', inference: {}, outputDir: '/tmp/never-written' };
  it.each([
    [{ threshold: -0.1 }, 'runEvaluation: threshold must be a probability from 0 to 1, got -0.1'],
    [{ window: 1.5 }, 'runEvaluation: window must be a whole number of at least 0, got 1.5'],
    [{ chunkGenes: 0 }, 'runEvaluation: chunkGenes must be a whole number of at least 1, got 0'],
    [{ format: 'csv' }, 'runEvaluation: format must be tsv or parquet, got "csv"'],
    [{ transcripts: 'some' }, 'runEvaluation: transcripts must be all or canonical, got "some"'],
  ])('%j', async (bad, message) => {
    await expect(runEvaluation({ ...ok, ...bad } as unknown as EvaluateOptions)).rejects.toThrow(message);
  });
});

describe('PangolinScorer checks its options through pangolinScorerOptionsSchema', () => {
  const ok = { model: {}, fasta: {}, genes: {} };
  it.each([
    [{ dist: -1 }, 'PangolinScorer: dist must be a whole number from 0 to 10000, got -1'],
    [{ cutoff: Number.POSITIVE_INFINITY }, 'PangolinScorer: cutoff must be a number, got Infinity'],
    [{ batchSize: 0 }, 'PangolinScorer: batchSize must be a whole number of at least 1, got 0'],
  ])('%j', (bad, message) => {
    expect(() => new PangolinScorer({ ...ok, ...bad } as unknown as PangolinScorerOptions)).toThrow(message);
  });
});
