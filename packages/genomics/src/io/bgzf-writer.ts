import { Transform, type TransformCallback } from 'node:stream';
import { deflateRawSync } from 'node:zlib';

/** Uncompressed bytes per BGZF block, as htslib writes them. */
const BLOCK_INPUT = 0xff00;

/** The empty block that ends every BGZF file (htslib checks for it). */
export const BGZF_EOF = Buffer.from('1f8b08040000000000ff0600424302001b0003000000000000000000', 'hex');

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32(data: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** One BGZF block: a gzip member with the `BC` extra field giving its size. */
export function bgzfBlock(data: Uint8Array): Buffer {
  const deflated = deflateRawSync(data, { level: 6 });
  const block = Buffer.alloc(18 + deflated.length + 8);
  block.set([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 0x42, 0x43, 2, 0], 0);
  block.writeUInt16LE(block.length - 1, 16);
  block.set(deflated, 18);
  block.writeUInt32LE(crc32(data), 18 + deflated.length);
  block.writeUInt32LE(data.length, 22 + deflated.length);
  return block;
}

/**
 * A stream that bgzip-compresses what is written to it (blocks of 65280 bytes, then the EOF
 * block), so VCF output ending in `.gz` can be indexed with tabix like htslib's output.
 */
export function createBgzfStream(): Transform {
  let pending: Buffer[] = [];
  let size = 0;
  const emit = (stream: Transform, all: boolean) => {
    let data = Buffer.concat(pending, size);
    while (data.length >= BLOCK_INPUT || (all && data.length > 0)) {
      stream.push(bgzfBlock(data.subarray(0, BLOCK_INPUT)));
      data = data.subarray(Math.min(BLOCK_INPUT, data.length));
    }
    pending = data.length ? [Buffer.from(data)] : [];
    size = data.length;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      pending.push(chunk);
      size += chunk.length;
      if (size >= BLOCK_INPUT) emit(this, false);
      done();
    },
    flush(done: TransformCallback) {
      emit(this, true);
      this.push(BGZF_EOF);
      done();
    },
  });
}
