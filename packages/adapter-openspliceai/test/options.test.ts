import { describe, expect, it } from 'vitest';
import { createOpenSpliceAIAdapter } from '../src/index.js';

describe('OpenSpliceAI adapter options', () => {
  it('refuses a backend other than onnx with InvalidArgumentError, before reading the file', async () => {
    const adapter = createOpenSpliceAIAdapter();
    const load = adapter.load({ file: '/nonexistent/model_10000nt_rs10.pt', context: 10000, backend: 'tfjs' });
    await expect(load).rejects.toThrow(
      'OpenSpliceAI runs on the onnx backend: backend must be auto or onnx, got "tfjs" (loading /nonexistent/model_10000nt_rs10.pt)',
    );
    await expect(adapter.load({ file: '/nonexistent/model_10000nt_rs10.pt', context: 10000, backend: 'tfjs' })).rejects.toHaveProperty(
      'code',
      'E_INVALID_ARGUMENT',
    );
  });

  it('checks the factory options with the shared message', () => {
    expect(() => createOpenSpliceAIAdapter({ threads: 0 })).toThrow('createOpenSpliceAIAdapter: threads must be a whole number of at least 1, got 0');
    expect(() => createOpenSpliceAIAdapter({ threads: 2 })).not.toThrow();
  });
});
