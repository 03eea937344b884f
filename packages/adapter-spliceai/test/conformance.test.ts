import { describe, test } from 'vitest';
import { runAdapterConformance } from '@metaspliceai/core/testing';
import { createSpliceAIAdapter } from '../src/index.js';
import { spliceaiFile } from './support/fixtures.js';

runAdapterConformance({
  describe,
  test,
  createAdapter: () => createSpliceAIAdapter({ backend: 'onnx' }),
  fixtures: {
    modelFile: spliceaiFile(3),
    relativePath: 'spliceai/spliceai3.h5',
    context: 10000,
    setName: 'spliceai',
    unrelatedPaths: ['README.md', 'LICENSE', 'openspliceai/openspliceai-mane/80nt/model_80nt_rs10.pt', 'data/train.h5'],
  },
});
