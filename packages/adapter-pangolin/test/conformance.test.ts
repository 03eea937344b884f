import { join } from 'node:path';
import { describe, test } from 'vitest';
import { runAdapterConformance } from '@metaspliceai/core/testing';
import { createPangolinAdapter } from '../src/index.js';
import { MODELS_DIR } from '../../../test-support/shared.js';

runAdapterConformance({
  describe,
  test,
  createAdapter: () => createPangolinAdapter(),
  fixtures: {
    modelFile: join(MODELS_DIR, 'pangolin/final.1.0.3.v2'),
    relativePath: 'pangolin/final.1.0.3.v2',
    context: 10000,
    setName: 'pangolin-v2',
    unrelatedPaths: [
      'README.md',
      'LICENSE',
      'spliceai/spliceai1.h5',
      'openspliceai/openspliceai-mane/80nt/model_80nt_rs10.pt',
      'metadata/model_info.json',
      'pangolin/final.1.0.3',
    ],
  },
});
