import { fileURLToPath } from 'node:url';
import { describe, test } from 'vitest';
import { runAdapterConformance } from '@metaspliceai/core/testing';
import { createPwmAdapter } from '../src/index.js';

// The same suite the built-in adapters pass, run against the model file in this package.
runAdapterConformance({
  describe,
  test,
  createAdapter: () => createPwmAdapter(),
  fixtures: {
    modelFile: fileURLToPath(new URL('../models/pwm-human/50nt/splice-sites.pwm.json', import.meta.url)),
    relativePath: 'pwm-human/50nt/splice-sites.pwm.json',
    context: 50,
    setName: 'pwm-human',
    unrelatedPaths: [
      'README.md',
      'LICENSE',
      'metadata/model_info.json',
      'spliceai/spliceai1.h5',
      'openspliceai/openspliceai-mane/80nt/model_80nt_rs10.pt',
      'notes.json',
    ],
  },
});
