import { describe, expect, it } from 'vitest';
import { createSpliceAIAdapter, type SpliceAIAdapterOptions } from '../src/index.js';

describe('SpliceAI adapter options', () => {
  it('checks the factory options with the shared message', () => {
    expect(() => createSpliceAIAdapter({ backend: 'wasm' } as unknown as SpliceAIAdapterOptions)).toThrow(
      'createSpliceAIAdapter: backend must be auto, onnx or tfjs, got "wasm"',
    );
    expect(() => createSpliceAIAdapter({ threads: -1 })).toThrow('createSpliceAIAdapter: threads must be a whole number of at least 1, got -1');
    expect(() => createSpliceAIAdapter({ backend: 'tfjs', threads: 2 })).not.toThrow();
  });
});
