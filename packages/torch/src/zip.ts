/**
 * A read-only zip reader for PyTorch archives. Checkpoints are a few MB, so it reads the file
 * whole, then parses the end-of-central-directory record (zip64 too), the central directory and
 * local headers, and checks every size, offset, name and CRC-32 before handing bytes on, because
 * a model file is input from the internet and must not be able to point outside itself or
 * inflate without bound.
 */
import { open } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import { ModelFileError, UnsafeModelFileError } from '@metaspliceai/core';

/** Bounds a hostile archive cannot push the reader past. */
export const ZIP_LIMITS = {
  /** Bytes of the archive itself, read whole (a Buffer holds at most 2 GiB on every Node line). */
  maxFileSize: 2 ** 31 - 1,
  /** Uncompressed bytes in one entry (2 GiB). */
  maxEntrySize: 2 ** 31,
  /** Uncompressed bytes over all entries (4 GiB). */
  maxTotalSize: 2 ** 32,
  maxEntries: 1_000_000,
  maxCentralDirectorySize: 2 ** 28,
  /** Deflate cannot exceed ~1032:1; anything above this is a bomb or corrupt. */
  maxDeflateRatio: 1100,
} as const;

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;
/** One read call never asks for more than this (fs reads are capped near 2 GiB). */
const MAX_READ_CHUNK = 2 ** 30;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;

/** One file inside the archive, as its central directory describes it. */
export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  /** Uncompressed size. */
  readonly size: number;
  readonly localHeaderOffset: number;
  /** Where the next entry (or the central directory) starts; this entry's bytes must end by then. */
  readonly limit: number;
  /** The raw (encoded) name, compared with the local header's copy. */
  readonly rawName: Uint8Array;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function u16(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8);
}
function u32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}
/** A little-endian u64 as a number, or -1 when it exceeds 2^53 (callers treat that as out of range). */
function u64(b: Uint8Array, p: number): number {
  const lo = u32(b, p);
  const hi = u32(b, p + 4);
  return hi >= 0x200000 ? -1 : hi * 2 ** 32 + lo;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** Why an entry name is refused, or undefined when it is a plain relative path. */
function badNameReason(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.includes('\0')) return 'contains a NUL byte';
  if (/^[/\\]/.test(name) || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  if (name.split(/[/\\]/).includes('..')) return "contains a '..' segment";
  return undefined;
}

/**
 * A zip archive read into memory. Stored entries are views into the file's bytes (no copy); a
 * fresh buffer starts at offset 0, so their alignment (mod 64) is their file offset's, as torch
 * writes tensor data 64-byte aligned.
 */
export class ZipArchive {
  private constructor(
    readonly file: string,
    private readonly bytes: Uint8Array,
    readonly entries: ReadonlyMap<string, ZipEntry>,
  ) {}

  get fileSize(): number {
    return this.bytes.length;
  }

  /** Reads `file` whole and parses its central directory. */
  static async open(file: string): Promise<ZipArchive> {
    const bytes = await readWhole(file);
    return new ZipArchive(file, bytes, readDirectory(file, bytes));
  }

  /** Nothing is held open; kept so callers can treat the archive as a resource. */
  async close(): Promise<void> {}

  /** The bytes of one entry, inflated and CRC-checked. */
  async readEntry(entry: ZipEntry): Promise<Uint8Array> {
    return this.extract(entry);
  }

  /** The bytes of several entries, inflated and CRC-checked, keyed by name. */
  async readEntries(wanted: readonly ZipEntry[]): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    for (const entry of wanted) out.set(entry.name, this.extract(entry));
    return out;
  }

  /** Checks the local header of `entry` against its central-directory record, then returns its data. */
  private extract(entry: ZipEntry): Uint8Array {
    const { file, bytes: buf } = this;
    const rel = entry.localHeaderOffset;
    const name = entry.name;
    if (rel + LOCAL_SIZE > buf.length || u32(buf, rel) !== SIG_LOCAL) {
      throw new ModelFileError(file, `entry '${name}': expected a local file header at byte ${entry.localHeaderOffset}, found none (corrupt archive)`);
    }
    const flags = u16(buf, rel + 6);
    const method = u16(buf, rel + 8);
    const nameLen = u16(buf, rel + 26);
    const extraLen = u16(buf, rel + 28);
    if (method !== entry.method) {
      throw new ModelFileError(file, `entry '${name}': local header says compression method ${method}, central directory says ${entry.method}`);
    }
    const localName = buf.subarray(rel + LOCAL_SIZE, rel + LOCAL_SIZE + nameLen);
    if (nameLen !== entry.rawName.length || !Buffer.from(localName).equals(entry.rawName)) {
      throw new UnsafeModelFileError(file, `entry '${name}': its local header names a different file; refused (a zip name-confusion trick or corruption)`);
    }
    if ((flags & 8) === 0 && u32(buf, rel + 18) !== 0xffffffff) {
      const crc = u32(buf, rel + 14);
      const csize = u32(buf, rel + 18);
      const usize = u32(buf, rel + 22);
      if (crc !== entry.crc32 || csize !== entry.compressedSize || usize !== entry.size) {
        throw new ModelFileError(
          file,
          `entry '${name}': local header (crc ${hex(crc)}, ${csize}/${usize} bytes) disagrees with the central directory (crc ${hex(entry.crc32)}, ${entry.compressedSize}/${entry.size} bytes)`,
        );
      }
    }
    const dataStart = rel + LOCAL_SIZE + nameLen + extraLen;
    const dataEnd = dataStart + entry.compressedSize;
    if (dataEnd > entry.limit) {
      throw new UnsafeModelFileError(file, `entry '${name}': its data runs into the next entry or the central directory; refused`);
    }
    if (dataEnd > buf.length) {
      throw new ModelFileError(file, `entry '${name}': data ends past the end of the file (truncated)`);
    }
    const raw = buf.subarray(dataStart, dataEnd);
    let data: Uint8Array;
    if (entry.method === METHOD_STORED) {
      data = raw;
    } else {
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'ERR_BUFFER_TOO_LARGE') {
          throw new UnsafeModelFileError(file, `entry '${name}' inflates past its declared ${entry.size} bytes; refused`, { cause: error });
        }
        throw new ModelFileError(file, `entry '${name}': deflate data is corrupt (${(error as Error).message})`, { cause: error });
      }
      if (data.length !== entry.size) {
        throw new ModelFileError(file, `entry '${name}': expected ${entry.size} bytes after inflating, found ${data.length}`);
      }
    }
    const crc = crc32(data);
    if (crc !== entry.crc32) {
      throw new ModelFileError(
        file,
        `entry '${name}': CRC-32 mismatch (expected ${hex(entry.crc32)}, found ${hex(crc)}); the file is corrupt, download it again`,
      );
    }
    return data;
  }
}

/** The whole file in a fresh buffer, or a ModelFileError saying why not. */
async function readWhole(file: string): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (error) {
    throw new ModelFileError(file, `cannot open the file (${(error as Error).message})`, { cause: error });
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) throw new ModelFileError(file, 'expected a regular file (a zip archive), found something else');
    if (stat.size > ZIP_LIMITS.maxFileSize) {
      throw new ModelFileError(
        file,
        `${stat.size} bytes is over the ${ZIP_LIMITS.maxFileSize}-byte limit of the checkpoint reader (PyTorch checkpoints of base models are a few MB)`,
      );
    }
    const buf = Buffer.allocUnsafeSlow(stat.size);
    let done = 0;
    while (done < stat.size) {
      const { bytesRead } = await fh.read(buf, done, Math.min(stat.size - done, MAX_READ_CHUNK), done);
      if (bytesRead === 0) throw new ModelFileError(file, `expected ${stat.size} bytes, the file ends at byte ${done} (it shrank while being read)`);
      done += bytesRead;
    }
    return buf;
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** `length` bytes at `position`, or a ModelFileError when the file ends first. */
function readAt(file: string, bytes: Uint8Array, position: number, length: number): Uint8Array {
  if (position + length > bytes.length) {
    throw new ModelFileError(file, `expected ${length} bytes at byte ${position}, the file ends at byte ${Math.max(position, bytes.length)} (truncated)`);
  }
  return bytes.subarray(position, position + length);
}

/** Explains why no end-of-central-directory record was found, from the file's first bytes. */
function notAZip(file: string, bytes: Uint8Array): never {
  const head = bytes.subarray(0, 4);
  const found = Buffer.from(head).toString('hex') || 'an empty file';
  if (head.length >= 4 && u32(head, 0) === SIG_LOCAL) {
    throw new ModelFileError(file, 'expected a zip archive with an end-of-central-directory record, found a zip that stops early (truncated download?)');
  }
  if (head[0] === 0x80) {
    throw new ModelFileError(
      file,
      'expected a zip archive (PyTorch >= 1.6 format), found a bare pickle (the legacy torch.save format, not supported); re-save it with a recent PyTorch',
    );
  }
  throw new ModelFileError(file, `expected a zip archive (a PyTorch .pt file), found bytes ${found}`);
}

function readDirectory(file: string, bytes: Uint8Array): Map<string, ZipEntry> {
  const size = bytes.length;
  if (size < EOCD_SIZE) return notAZip(file, bytes);
  const tailLen = Math.min(size, EOCD_SIZE + MAX_COMMENT + ZIP64_LOCATOR_SIZE);
  const tailStart = size - tailLen;
  const tail = readAt(file, bytes, tailStart, tailLen);
  // The record sits at the end, followed only by its comment; search back over a comment.
  let pos = -1;
  for (let p = tailLen - EOCD_SIZE; p >= 0; p--) {
    if (u32(tail, p) === SIG_EOCD && p + EOCD_SIZE + u16(tail, p + 20) === tailLen) {
      pos = p;
      break;
    }
  }
  if (pos < 0) return notAZip(file, bytes);
  const eocdAt = tailStart + pos;
  let disk = u16(tail, pos + 4);
  let cdDisk = u16(tail, pos + 6);
  let count = u16(tail, pos + 10);
  let countOnDisk = u16(tail, pos + 8);
  let cdSize = u32(tail, pos + 12);
  let cdOffset = u32(tail, pos + 16);
  let cdBound = eocdAt;

  if (pos >= ZIP64_LOCATOR_SIZE && u32(tail, pos - ZIP64_LOCATOR_SIZE) === SIG_ZIP64_LOCATOR) {
    const z64At = u64(tail, pos - ZIP64_LOCATOR_SIZE + 8);
    const locatorAt = eocdAt - ZIP64_LOCATOR_SIZE;
    if (z64At < 0 || z64At + ZIP64_EOCD_SIZE > locatorAt) {
      throw new ModelFileError(file, `zip64 end-of-central-directory offset ${z64At} is outside the file (corrupt archive)`);
    }
    const z = readAt(file, bytes, z64At, ZIP64_EOCD_SIZE);
    if (u32(z, 0) !== SIG_ZIP64_EOCD) {
      throw new ModelFileError(file, `expected a zip64 end-of-central-directory record at byte ${z64At}, found none (corrupt archive)`);
    }
    const z64 = { disk: u32(z, 16), cdDisk: u32(z, 20), countOnDisk: u64(z, 24), count: u64(z, 32), cdSize: u64(z, 40), cdOffset: u64(z, 48) };
    // Where the 32-bit record has a real value (not the 0xFF.. sentinel), the two must agree.
    const agree =
      (count === 0xffff || count === z64.count) && (cdSize === 0xffffffff || cdSize === z64.cdSize) && (cdOffset === 0xffffffff || cdOffset === z64.cdOffset);
    if (!agree || z64.count < 0 || z64.cdSize < 0 || z64.cdOffset < 0) {
      throw new ModelFileError(file, 'the zip64 and 32-bit end-of-central-directory records disagree (corrupt archive)');
    }
    ({ disk, cdDisk, count, countOnDisk, cdSize, cdOffset } = z64);
    cdBound = z64At;
  }
  if (disk !== 0 || cdDisk !== 0 || count !== countOnDisk) {
    throw new ModelFileError(file, 'expected a single-volume zip archive, found a multi-volume one (not supported)');
  }
  if (cdOffset + cdSize > cdBound) {
    throw new ModelFileError(
      file,
      `central directory (${cdSize} bytes at byte ${cdOffset}) runs past its end record at byte ${cdBound} (truncated or corrupt archive)`,
    );
  }
  if (cdSize > ZIP_LIMITS.maxCentralDirectorySize || count > ZIP_LIMITS.maxEntries) {
    throw new UnsafeModelFileError(file, `central directory declares ${count} entries in ${cdSize} bytes, over the reader's limits; refused`);
  }
  if (count * CENTRAL_SIZE > cdSize) {
    throw new ModelFileError(file, `central directory of ${cdSize} bytes cannot hold the ${count} entries it declares (corrupt archive)`);
  }
  const cd = readAt(file, bytes, cdOffset, cdSize);
  return parseCentralDirectory(file, cd, count, cdOffset, size);
}

function parseCentralDirectory(file: string, cd: Uint8Array, count: number, cdOffset: number, fileSize: number): Map<string, ZipEntry> {
  const list: Omit<ZipEntry, 'limit'>[] = [];
  const names = new Set<string>();
  let total = 0;
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cd.length || u32(cd, p) !== SIG_CENTRAL) {
      throw new ModelFileError(file, `central directory entry ${i} of ${count}: expected a header at byte ${cdOffset + p}, found none (corrupt archive)`);
    }
    const flags = u16(cd, p + 8);
    const method = u16(cd, p + 10);
    const crc = u32(cd, p + 16);
    let csize = u32(cd, p + 20);
    let usize = u32(cd, p + 24);
    const nameLen = u16(cd, p + 28);
    const extraLen = u16(cd, p + 30);
    const commentLen = u16(cd, p + 32);
    const diskStart = u16(cd, p + 34);
    let lho = u32(cd, p + 42);
    const next = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (next > cd.length) {
      throw new ModelFileError(file, `central directory entry ${i} runs past the directory's end (corrupt archive)`);
    }
    const rawName = cd.slice(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen);
    let name: string;
    try {
      name = flags & 0x800 ? utf8.decode(rawName) : Buffer.from(rawName).toString('latin1');
    } catch (error) {
      throw new ModelFileError(file, `central directory entry ${i}: its name is not valid UTF-8`, { cause: error });
    }
    // Zip64 extended information: the 64-bit values, in order, for each 32-bit field set to 0xFF..
    let e = p + CENTRAL_SIZE + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = u16(cd, e);
      const len = u16(cd, e + 2);
      if (e + 4 + len > extraEnd) break;
      if (id === 0x0001) {
        let q = e + 4;
        const take = (): number => {
          if (q + 8 > e + 4 + len) throw new ModelFileError(file, `entry '${name}': zip64 extra field is too short (corrupt archive)`);
          const v = u64(cd, q);
          q += 8;
          if (v < 0) throw new UnsafeModelFileError(file, `entry '${name}': zip64 size or offset beyond 2^53; refused`);
          return v;
        };
        if (usize === 0xffffffff) usize = take();
        if (csize === 0xffffffff) csize = take();
        if (lho === 0xffffffff) lho = take();
      }
      e += 4 + len;
    }
    const why = badNameReason(name);
    if (why) throw new UnsafeModelFileError(file, `entry name '${name}' ${why}; refused`);
    if (names.has(name)) throw new UnsafeModelFileError(file, `entry '${name}' appears twice; refused (ambiguous archive)`);
    names.add(name);
    if (flags & 0x41) throw new ModelFileError(file, `entry '${name}' is encrypted (not supported)`);
    if (diskStart !== 0 && diskStart !== 0xffff) throw new ModelFileError(file, `entry '${name}' lives on another volume (not supported)`);
    if (method !== METHOD_STORED && method !== METHOD_DEFLATE) {
      throw new ModelFileError(file, `entry '${name}': expected compression method 0 (stored) or 8 (deflate), found ${method}`);
    }
    if (usize > ZIP_LIMITS.maxEntrySize) {
      throw new UnsafeModelFileError(file, `entry '${name}' declares ${usize} bytes, over the ${ZIP_LIMITS.maxEntrySize}-byte limit per entry; refused`);
    }
    if (csize > fileSize || lho + LOCAL_SIZE + nameLen + csize > cdOffset) {
      throw new UnsafeModelFileError(
        file,
        `entry '${name}' declares ${csize} bytes at byte ${lho}, beyond the archive's data area (${cdOffset} bytes); refused`,
      );
    }
    if (method === METHOD_STORED && csize !== usize) {
      throw new ModelFileError(file, `stored entry '${name}' has compressed size ${csize} but size ${usize} (corrupt archive)`);
    }
    if (method === METHOD_DEFLATE && usize > csize * ZIP_LIMITS.maxDeflateRatio + 1024) {
      throw new UnsafeModelFileError(file, `entry '${name}' claims to inflate ${csize} bytes into ${usize} (a zip bomb?); refused`);
    }
    total += usize;
    if (total > ZIP_LIMITS.maxTotalSize) {
      throw new UnsafeModelFileError(file, `entries declare more than ${ZIP_LIMITS.maxTotalSize} bytes in all; refused`);
    }
    list.push({ name, method, flags, crc32: crc, compressedSize: csize, size: usize, localHeaderOffset: lho, rawName });
    p = next;
  }
  // Entries must not overlap: each one's header, name and data end before the next one starts.
  const sorted = [...list].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  const limits = new Map<string, number>();
  for (let i = 0; i < sorted.length; i++) {
    const cur = sorted[i];
    const limit = i + 1 < sorted.length ? sorted[i + 1].localHeaderOffset : cdOffset;
    if (cur.localHeaderOffset + LOCAL_SIZE + cur.rawName.length + cur.compressedSize > limit) {
      throw new UnsafeModelFileError(file, `entry '${cur.name}' overlaps the entry after it; refused`);
    }
    limits.set(cur.name, limit);
  }
  // Keep the central directory's order (the order torch wrote them).
  const entries = new Map<string, ZipEntry>();
  for (const cur of list) entries.set(cur.name, { ...cur, limit: limits.get(cur.name)! });
  return entries;
}
