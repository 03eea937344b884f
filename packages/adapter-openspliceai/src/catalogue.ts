import type { KnownModelSet } from '@metaspliceai/core';

/** Where the OpenSpliceAI authors publish their trained models (in the OpenSpliceAI repository). */
const BASE = 'https://github.com/Kuanhao-Chao/OpenSpliceAI/raw/main/models';
const CITATION =
  'Chao KH, Mao A, Salzberg SL, Pertea M. OpenSpliceAI: an efficient, modular implementation of SpliceAI enabling easy retraining on non-human species. eLife (2025). doi:10.7554/eLife.107454';

interface PublishedFile {
  seed: number;
  sha256: string;
  size: number;
}

function set(species: string, context: number, files: PublishedFile[]): KnownModelSet {
  const folder = `openspliceai-${species}/${context}nt`;
  return {
    setName: `openspliceai-${species}`,
    context,
    license: 'GPL-3.0',
    sourceUrl: 'https://github.com/Kuanhao-Chao/OpenSpliceAI',
    citation: CITATION,
    species,
    directory: `openspliceai/${folder}`,
    files: files.map((f) => {
      const name = `model_${context}nt_rs${f.seed}.pt`;
      return { name, url: `${BASE}/${folder}/${name}`, sha256: f.sha256, size: f.size };
    }),
  };
}

/**
 * The published OpenSpliceAI sets this adapter can download, with the checksums of the released
 * files; `models pull` refuses anything else.
 */
export const OPENSPLICEAI_CATALOGUE: readonly KnownModelSet[] = [
  set('mane', 80, [
    { seed: 10, sha256: '894594d18be6d3e339d76b9698accf4071bd2f0f32f40c52a2c1b848d1cef9f4', size: 397410 },
    { seed: 11, sha256: '141999005015698296b78f7ee1ce2a6bffc8653195e23963dbad0a5cc124b8ee', size: 397410 },
    { seed: 12, sha256: 'ae201087fe05756c7c9dd128df5323648f9081ad5c854e632aea7980852a8e93', size: 397410 },
    { seed: 13, sha256: 'd50d31d53067d3beb74a7bc7f5b885ec7cae79e6ce736ee9ce47d463df041f7d', size: 397410 },
    { seed: 14, sha256: '8e669b8df46366575130cf46729baab8103657086d9b070d52af75b8af5dc652', size: 397410 },
  ]),
  set('mane', 400, [
    { seed: 10, sha256: 'a4838147b4af2e9b19d336f21eeea6bf5af5140ecd33fa3ebdb64b544ea6b547', size: 787320 },
    { seed: 11, sha256: '32120d27b711f4313e5a73dcb1405ea77d1cddeab02709f39348d300d3f0e6de', size: 787320 },
    { seed: 12, sha256: 'db74e7948eba498fd55b56a666edf3db8e71068967d71de5e28f1d10c81b529d', size: 787320 },
    { seed: 13, sha256: 'b0a3599b5444c8752e22963b52d37f822521a824db3aae16b924fd53ecaeeb51', size: 787320 },
    { seed: 14, sha256: '35bd0ab2598891ed956df886c59e8e9f0ac2879cebede30bbba9887daf8b79d3', size: 787320 },
  ]),
  set('mane', 2000, [
    { seed: 10, sha256: 'dc5bf14fa830f0105dfd34e034ead9d8067d65facc34ee88c7948c8585c921d3', size: 1505074 },
    { seed: 11, sha256: 'aebdfa5b62972827ac832a213add3b7bc9e8a7770adbb27a7c6a93346b20215a', size: 1505074 },
    { seed: 12, sha256: '0904d00f1b210f34e804385c495fb7ac4bb7c8f8d527e6b4a4046cc131bddb16', size: 1505074 },
    { seed: 13, sha256: '9620d8d1b0d5b6e15558f9c63aab0b49e6d9f9bcb3b524b9dcb0879d413e2522', size: 1505074 },
    { seed: 14, sha256: '856d1545b58e024f87d61395da5240965c052133897aaf98546d20d70bc85d38', size: 1505074 },
  ]),
  set('mane', 10000, [
    { seed: 10, sha256: '7b0d6af6239e27392226bbada310ee9e2ce0ced149fb6fdff8996c12cba3cc85', size: 2878124 },
    { seed: 11, sha256: '38fe4469eff09ffe5caa291bc224248c81ed68acca0b729afb87450909a8130e', size: 2878124 },
    { seed: 12, sha256: '49f38e3fd0e87b81ce22d986d1168eb9b2c55668bfd6aaa064da1082ee668667', size: 2878124 },
    { seed: 13, sha256: 'bae2756b452f31d45b74604816561da79284d791be37f467491a68342c819b20', size: 2878124 },
    { seed: 14, sha256: 'cfe2741311ed02dab3042492a5be14029b18d63be693751e9534315a9e4c6271', size: 2878124 },
  ]),
  set('mouse', 10000, [
    { seed: 10, sha256: '5498a8ff740b630d380a4d22f5180facf68f8d71c1bdfd438cfe70223ace1ff0', size: 2878124 },
    { seed: 11, sha256: '89287011f079cca074009f7d07a16f0ca61ba979c9dc4db17e78f1bbec5f51f9', size: 2878124 },
    { seed: 12, sha256: 'b24a64fd2209a122c1d3bfca3d8baaaf8cbdec4eeb514decc40a52c179fa120e', size: 2878124 },
    { seed: 13, sha256: '867d6daf0ffb109ca514c155ab74df9412006e0de59fe7be3e9d9fa1fe0632a7', size: 2878124 },
    { seed: 14, sha256: '9d1d54340f9c01d90f6abe9091b167ce230415bfbff77103805ee7a001fb8fe5', size: 2878124 },
  ]),
];
