import type { KnownModelSet } from '@metaspliceai/core';

/** Where the Pangolin authors publish the v2 weights (in the Pangolin repository). */
const BASE = 'https://github.com/tkzeng/Pangolin/raw/main/pangolin/models';

export const PANGOLIN_CITATION =
  'Zeng T, Li YI. Predicting RNA splicing from DNA sequence using Pangolin. Genome Biology 23, 103 (2022). doi:10.1186/s13059-022-02664-4';

/** `[replicate.head, sha256, size]` of the released `final.<replicate>.<head>.3.v2` files. */
const V2_FILES: readonly (readonly [string, string, number])[] = [
  ['1.0', 'f0478fab173b75f7f7e9fe96688bad6c50fa4a46d70557f423b110caaf565501', 2877321],
  ['1.1', 'ef5b00dda6bd7e0f70e6544a425801a9bfc214560801b38fd771b1feefd040e6', 2877321],
  ['1.2', '559c05de3e1ce65c2515ca3e92ef85edb0ec2e47686ca58060e25891ce06eb3a', 2877321],
  ['1.3', 'd36e3aca05de107f09f731e5617735f66ab9ca5e5292f9993b665863c26e9ad1', 2877321],
  ['1.4', 'c50b12e0c0af776d5674ca5e346493f8265783494d4df383364de9c1136657f6', 2877321],
  ['1.5', '3744c1daba199532ef4ea8df108d777ed5a5678370e3f55c73de0bc97f1ca4b7', 2877321],
  ['1.6', '2aae563fa18a8a9b6699c6c96e0d32b8ec7543f8f805fb3bc9de77302cc9f66e', 2877321],
  ['1.7', 'cc1459a904d9cb99f53d4c13ceebbc7baaabf5acbe5c44b4a0b7556a89b71457', 2877321],
  ['2.0', 'c4c6bb4880fa6fb28b14182ae3ea0600edb07056158f55325b5e6e6e48fc9f26', 2877321],
  ['2.1', '1d7240c78b2b25356811d1e5d0c90b7525e52043bc44ea867a7ed0e283837b6c', 2877321],
  ['2.2', '48758ba8b95eee9aa9feea52672ef06ca1b34111299c27f8a710f734d8b9aae5', 2877321],
  ['2.3', '53208adf4c0d6950aa1670fc8e1b73ea69db7207437b2fdcbb051f550dc448e7', 2877321],
  ['2.4', 'e03303bed4fd6f135ec0f6c1b192cce954ea42d0646f44d17b4a6fbb2b1f610e', 2877321],
  ['2.5', 'bb6c3ababf91c1a45147c11dd0e3450a8fe61e1010ba6cb90152f183e7a4d524', 2877321],
  ['2.6', '7d3c0b1b2a60067b940dec315567874fbc8bcd322f1b7c76bf969f51f0f53f7f', 2877321],
  ['2.7', '007993341045ada7a89a49625e216a81b4bb1f29f740dc04ab3a07af2a63b528', 2877321],
  ['3.0', 'ec685a6e7105a4486c1f89a005458a13deb3fe7171f13d434f4877e386d10676', 2877321],
  ['3.1', 'c8590097910bc5b9518432112f1bbc1bcf8e4942d46141d271fea35c30780c16', 2877321],
  ['3.2', '7cb576c2b24db4fdd6970c4ca4fb7c20ae1b1d8ae80645ebbe689848b5743129', 2877321],
  ['3.3', '3283e7f511b35ce7546d1fb9578d2df8bb9a1a8ebb640904b1efb04586e8ce55', 2877321],
  ['3.4', '9476d2e25520d7ff15bece0cd5d3b657e3b1dd3cc5fcab1d9c3b62bea7a0c5b6', 2877321],
  ['3.5', 'c402162d525501b71227128f96c0f8716d3ccf07150dfb7a3d15d9ee8a98f5fb', 2877321],
  ['3.6', '756e7721a382cace24e9bfea5b543af5623f2487d9a3efe7385e9c76367005fd', 2877321],
  ['3.7', '373faffbe02a74d444ee6ce47f8493b478da23027e4688c94b0c082f419e8f0a', 2877321],
];

/**
 * The published Pangolin v2 set this adapter can download (24 files: replicates 1-3 of heads 0-7),
 * with the checksums of the released files; `models pull` refuses anything else.
 */
export const PANGOLIN_CATALOGUE: readonly KnownModelSet[] = [
  {
    setName: 'pangolin-v2',
    context: 10000,
    license: 'GPL-3.0',
    sourceUrl: 'https://github.com/tkzeng/Pangolin',
    citation: PANGOLIN_CITATION,
    directory: 'pangolin',
    files: V2_FILES.map(([id, sha256, size]) => {
      const name = `final.${id}.3.v2`;
      return { name, url: `${BASE}/${name}`, sha256, size };
    }),
  },
];
