import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type BaseModelAdapter,
  createModelManager,
  downloadFile,
  type DownloadOptions,
  InvalidArgumentError,
  type KnownModelSet,
  oneOf,
  parseFlags,
  parseOptions,
  probability,
  pullModelSet,
  wholeNumber,
} from '../src/index.js';

const schema = z.looseObject({
  dist: wholeNumber({ min: 0, max: 4999 }).optional(),
  device: oneOf(['cpu', 'gpu']).optional(),
  threshold: probability().optional(),
  strict: z.boolean().optional(),
});

function errorOf(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    if (InvalidArgumentError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('parseOptions', () => {
  it('returns the options when they fit', () => {
    expect(parseOptions(schema, { dist: 50, device: 'gpu', threshold: 0.5 })).toEqual({ dist: 50, device: 'gpu', threshold: 0.5 });
  });

  it.each([
    [{ dist: 5000 }, 'dist must be a whole number from 0 to 4999, got 5000'],
    [{ dist: 1.5 }, 'dist must be a whole number from 0 to 4999, got 1.5'],
    [{ dist: '50' }, 'dist must be a whole number from 0 to 4999, got "50"'],
    [{ device: 'tpu' }, 'device must be cpu or gpu, got "tpu"'],
    [{ threshold: Number.NaN }, 'threshold must be a probability from 0 to 1, got NaN'],
    [{ threshold: 2 }, 'threshold must be a probability from 0 to 1, got 2'],
  ])('names the option and the values it takes: %j', (value, message) => {
    const error = errorOf(() => parseOptions(schema, value));
    expect(error.code).toBe('E_INVALID_ARGUMENT');
    expect(error.message).toBe(message);
  });

  it('puts the owner first and refuses a non-object', () => {
    expect(errorOf(() => parseOptions(schema, { dist: -1 }, { owner: 'VariantScorer' })).message).toBe(
      'VariantScorer: dist must be a whole number from 0 to 4999, got -1',
    );
    expect(errorOf(() => parseOptions(schema, 5, { owner: 'VariantScorer' })).message).toBe('VariantScorer: options must be an object, got 5');
  });
});

describe('parseFlags', () => {
  const flags = { dist: '-D', device: '--device', threshold: '--threshold' };

  it('turns number strings into numbers and leaves flags not given out', () => {
    expect(parseFlags(schema, { dist: '500', device: undefined, threshold: '0.25' }, flags)).toEqual({ dist: 500, threshold: 0.25 });
  });

  it.each([
    [{ dist: '5000' }, '-D takes a whole number from 0 to 4999, got "5000"'],
    [{ dist: 'x' }, '-D takes a whole number from 0 to 4999, got "x"'],
    [{ dist: '' }, '-D takes a whole number from 0 to 4999, got ""'],
    [{ device: 'tpu' }, '--device takes cpu or gpu, got "tpu"'],
    [{ threshold: '1.5' }, '--threshold takes a probability from 0 to 1, got "1.5"'],
  ])('names the flag and quotes what was typed: %j', (raw, message) => {
    expect(errorOf(() => parseFlags(schema, raw, flags)).message).toBe(message);
  });
});

describe('the manager checks its options through the same schemas', () => {
  it('createModelManager, resolve and load name the bad option', async () => {
    expect(errorOf(() => createModelManager({ strict: 'yes' as unknown as boolean })).message).toBe(
      'createModelManager: strict must be true or false, got "yes"',
    );
    const manager = createModelManager({ modelsDir: '/nonexistent' });
    await expect(manager.load({ adapter: 'x', threads: 0 })).rejects.toThrow('load: threads must be a whole number of at least 1, got 0');
    await expect(manager.load({ adapter: 'x', device: 'tpu' as 'cpu' })).rejects.toThrow('load: device must be cpu or gpu, got "tpu"');
    await expect(manager.resolve({ adapter: 'x', context: 0 })).rejects.toThrow('resolve: context must be a whole number of at least 1, got 0');
  });
});

describe('download and pull check their options before fetching', () => {
  it('name the bad option', async () => {
    await expect(downloadFile({ source: 'http://127.0.0.1:9/x', dest: '/tmp/never', sha256: 'a'.repeat(64), retries: -1 } as DownloadOptions)).rejects.toThrow(
      'downloadFile: retries must be a whole number of at least 0, got -1',
    );
    await expect(pullModelSet({} as KnownModelSet, { adapter: {} as BaseModelAdapter, modelsDir: '' })).rejects.toThrow(
      'pullModelSet: modelsDir must be a folder path, got ""',
    );
  });
});
