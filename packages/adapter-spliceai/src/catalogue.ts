import type { KnownModelSet } from '@metaspliceai/core';

/** Where Illumina publishes the SpliceAI weights (in the SpliceAI Python package's repository). */
const BASE = 'https://github.com/Illumina/SpliceAI/raw/master/spliceai/models';

/**
 * The published SpliceAI ensemble. Checksums and sizes are those of the released files; `models pull`
 * refuses anything else.
 */
export const SPLICEAI_CATALOGUE: readonly KnownModelSet[] = [
  {
    setName: 'spliceai',
    context: 10000,
    license: 'CC BY-NC 4.0',
    sourceUrl: 'https://github.com/Illumina/SpliceAI',
    citation: 'Jaganathan K, et al. Predicting splicing from primary sequence with deep learning. Cell 176(3):535-548 (2019). doi:10.1016/j.cell.2018.12.015',
    species: 'human',
    directory: 'spliceai',
    files: [
      { name: 'spliceai1.h5', url: `${BASE}/spliceai1.h5`, sha256: 'e1fd5adcef7489d604b10e79c40078ef790d51ef048c4ce3869c9119ac5de42b', size: 3131720 },
      { name: 'spliceai2.h5', url: `${BASE}/spliceai2.h5`, sha256: '6ab042b82ab966b6d3582cb31b96f0859ea08a864f168d69e83aa14450a3b66e', size: 3131720 },
      { name: 'spliceai3.h5', url: `${BASE}/spliceai3.h5`, sha256: 'e2e790bde53dfdf410c6dc434a86122a7d12f3f38dc2ef45d85986e9ecf22fad', size: 3131720 },
      { name: 'spliceai4.h5', url: `${BASE}/spliceai4.h5`, sha256: 'ca88ac9e58e69ba6fdeed319b72f063f164c9abf7392eaccef903e94c1d99dd6', size: 3131720 },
      { name: 'spliceai5.h5', url: `${BASE}/spliceai5.h5`, sha256: '791cd22c62a80a08d2ca674615a93ce8159d7b55bd157cfef2983b1bd6b41391', size: 3131720 },
    ],
  },
];
