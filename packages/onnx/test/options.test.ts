import { describe, expect, it } from 'vitest';
import { SpliceGraphBuilder, type SpliceGraphOptions } from '../src/index.js';

describe('SpliceGraphBuilder checks its options through spliceGraphOptionsSchema', () => {
  it.each([
    [{ convLayout: 'nhwc' }, 'SpliceGraphBuilder: convLayout must be conv2d or conv1d, got "nhwc"'],
    [{ inputChannels: 0 }, 'SpliceGraphBuilder: inputChannels must be a whole number of at least 1, got 0'],
    [{ foldBatchNorm: 'yes' }, 'SpliceGraphBuilder: foldBatchNorm must be true or false, got "yes"'],
  ])('%j', (bad, message) => {
    expect(() => new SpliceGraphBuilder(bad as unknown as SpliceGraphOptions)).toThrow(message);
  });

  it('takes good options', () => {
    expect(() => new SpliceGraphBuilder({ name: 'x', convLayout: 'conv1d', metadata: { family: 'test' } })).not.toThrow();
  });
});
