import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { spliceaiFile } from './fixtures.js';

const created: string[] = [];

/** A fresh temporary folder (never under the read-only shared/ folder). */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'metaspliceai-keras-'));
  created.push(dir);
  return dir;
}

/** Removes every folder {@link tempDir} made; call it from `afterAll`. */
export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A copy of spliceai1.h5 cut to its first `bytes` bytes, as an interrupted download leaves it. */
export function truncatedCopy(bytes: number): string {
  const file = path.join(tempDir(), 'truncated.h5');
  const original = readFileSync(spliceaiFile(1));
  writeFileSync(file, original.subarray(0, bytes));
  return file;
}

/** A file of random bytes with an .h5 name. */
export function randomBytesFile(bytes = 4096): string {
  const file = path.join(tempDir(), 'random.h5');
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = Math.floor(Math.random() * 256);
  writeFileSync(file, data);
  return file;
}

/**
 * A copy of spliceai1.h5 whose `model_config` attribute is replaced by `edit(config)` (an object
 * to serialise, or a raw string). Written with h5wasm itself, as a user's tool would.
 */
export async function copyWithConfig(edit: (config: any) => unknown): Promise<string> {
  await h5wasm.ready;
  const file = path.join(tempDir(), 'edited.h5');
  copyFileSync(spliceaiFile(1), file);
  const h5 = new h5wasm.File(file, 'a');
  try {
    const config = JSON.parse(h5.attrs['model_config']!.value as string);
    const edited = edit(config);
    h5.delete_attribute('model_config');
    h5.create_attribute('model_config', typeof edited === 'string' ? edited : JSON.stringify(edited));
  } finally {
    h5.close();
  }
  return file;
}

/** A valid HDF5 file that holds one dataset and no Keras model. */
export async function plainH5File(): Promise<string> {
  await h5wasm.ready;
  const file = path.join(tempDir(), 'plain.h5');
  const h5 = new h5wasm.File(file, 'w');
  try {
    h5.create_dataset({ name: 'data', data: new Float32Array([1, 2, 3]) });
  } finally {
    h5.close();
  }
  return file;
}
