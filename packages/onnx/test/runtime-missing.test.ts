import { describe, it, expect, vi } from 'vitest';
import { RuntimeMissingError } from '@metaspliceai/core';
import { createOnnxModel, isOnnxRuntimeAvailable } from '../src/index.js';
import { buildTinyNet, makeTinyNet } from './tiny-net.js';

// Simulate an installation without the peer dependency.
vi.mock('onnxruntime-node', () => {
  throw new Error("Cannot find package 'onnxruntime-node'");
});

describe('without onnxruntime-node', () => {
  it('throws RuntimeMissingError naming the package, with an install hint', async () => {
    const net = makeTinyNet(1);
    const error = await createOnnxModel({ modelBytes: buildTinyNet(net), context: net.context }).catch((e: unknown) => e);
    expect(RuntimeMissingError.isInstance(error)).toBe(true);
    expect((error as RuntimeMissingError).packageName).toBe('onnxruntime-node');
    expect((error as RuntimeMissingError).hint).toMatch(/pnpm add onnxruntime-node/);
    expect(await isOnnxRuntimeAvailable()).toBe(false);
  });
});
