import { join } from 'node:path';
import { describe, test } from 'vitest';
import { runAdapterConformance } from '@metaspliceai/core/testing';
import { createOpenSpliceAIAdapter } from '../src/index.js';
import { MODELS_DIR } from '../../../test-support/shared.js';

runAdapterConformance({
  describe,
  test,
  createAdapter: () => createOpenSpliceAIAdapter(),
  fixtures: {
    modelFile: join(MODELS_DIR, 'openspliceai/openspliceai-mane/400nt/model_400nt_rs10.pt'),
    relativePath: 'openspliceai/openspliceai-mane/400nt/model_400nt_rs10.pt',
    context: 400,
    setName: 'openspliceai-mane',
    unrelatedPaths: ['README.md', 'LICENSE', 'spliceai/spliceai1.h5', 'metadata/model_info.json'],
  },
});
