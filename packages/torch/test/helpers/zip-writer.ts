/**
 * A tiny zip writer for tests: builds archives (stored or deflated entries, correct CRCs unless
 * told otherwise) so hostile and odd inputs can be made by hand without Python.
 */
import { deflateRawSync } from 'node:zlib';
import { crc32 } from 'node:zlib';

export interface ZipInput {
  name: string;
  data: Uint8Array;
  /** 0 = stored (default), 8 = deflate. */
  method?: 0 | 8;
  /** Overrides for the central directory (to make broken archives). */
  crc?: number;
  size?: number;
  compressedSize?: number;
  /** Points the central directory at another entry's local header (by index). */
  offsetOf?: number;
  /** A different name in the local header than in the central directory. */
  localName?: string;
}

export interface ZipOptions {
  comment?: string;
}

/** Serialises `entries` into zip bytes. */
export function makeZip(entries: readonly ZipInput[], options: ZipOptions = {}): Uint8Array {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  const metas = entries.map((e) => {
    const name = Buffer.from(e.name, 'utf8');
    const body = e.method === 8 ? deflateRawSync(e.data) : Buffer.from(e.data);
    return { e, name, body, crc: crc32(e.data) };
  });
  for (const { e, name, body, crc } of metas) {
    // Overrides go in both headers, so the reader's own checks (not a header mismatch) see them.
    const local = e.localName === undefined ? name : Buffer.from(e.localName, 'utf8');
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(0x800, 6);
    h.writeUInt16LE(e.method ?? 0, 8);
    h.writeUInt32LE((e.crc ?? crc) >>> 0, 14);
    h.writeUInt32LE(Math.min(e.compressedSize ?? body.length, 0xffffffff), 18);
    h.writeUInt32LE(Math.min(e.size ?? e.data.length, 0xffffffff), 22);
    h.writeUInt16LE(local.length, 26);
    offsets.push(at);
    chunks.push(h, local, body);
    at += h.length + local.length + body.length;
  }
  const cdStart = at;
  metas.forEach(({ e, name, body, crc }, i) => {
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(0x800, 8);
    c.writeUInt16LE(e.method ?? 0, 10);
    c.writeUInt32LE((e.crc ?? crc) >>> 0, 16);
    c.writeUInt32LE(e.compressedSize ?? body.length, 20);
    c.writeUInt32LE(e.size ?? e.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offsets[e.offsetOf ?? i], 42);
    central.push(c, name);
    at += c.length + name.length;
  });
  const comment = Buffer.from(options.comment ?? '', 'utf8');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(at - cdStart, 12);
  end.writeUInt32LE(cdStart, 16);
  end.writeUInt16LE(comment.length, 20);
  return Buffer.concat([...chunks, ...central, end, comment]);
}
