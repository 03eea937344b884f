import { Transform, type TransformCallback } from 'node:stream';
import { crc32, deflateRawSync } from 'node:zlib';

/** Uncompressed bytes per BGZF block, as htslib writes them. */
const BLOCK_INPUT = 0xff00;

/** The empty block that ends every BGZF file (htslib checks for it). */
export const BGZF_EOF = Buffer.from('1f8b08040000000000ff0600424302001b0003000000000000000000', 'hex');

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
