import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BGZF_EOF, bgzfBlock } from '../src/io/bgzf-writer.js';

describe('bgzfBlock', () => {
  it('writes a gzip member whose CRC-32 and size gunzip accepts', () => {
    const data = Buffer.from('##fileformat=VCFv4.2\n'.repeat(500));
    const block = bgzfBlock(data);
    expect(block.readUInt16LE(16)).toBe(block.length - 1); // BSIZE - 1
    expect(gunzipSync(block).equals(data)).toBe(true);
    expect(gunzipSync(Buffer.concat([block, BGZF_EOF])).equals(data)).toBe(true);
  });

  it('carries the CRC-32 of the uncompressed bytes (a flipped CRC fails gunzip)', () => {
    const block = bgzfBlock(Buffer.from('123456789'));
    expect(block.readUInt32LE(block.length - 8)).toBe(0xcbf43926); // the standard CRC-32 check value
    expect(block.readUInt32LE(block.length - 4)).toBe(9);
    block[block.length - 8] ^= 1;
    expect(() => gunzipSync(block)).toThrow();
  });
});
