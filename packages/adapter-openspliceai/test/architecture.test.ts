import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '@metaspliceai/core';
import { readArchitecture, readStateDict, readStateDictIndex } from '../src/index.js';
import { ZipArchive } from '../../torch/src/zip.js';
import { makeZip } from '../../torch/test/helpers/zip-writer.js';
import { MODELS_DIR } from '../../../test-support/shared.js';

const REAL = join(MODELS_DIR, 'openspliceai/openspliceai-mane/80nt/model_80nt_rs10.pt');
const dir = mkdtempSync(join(tmpdir(), 'metaspliceai-osai-arch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('regressions the .pt fuzzer found', () => {
  it('weights stored as integers or bools are a ModelFileError at inspection, not an InvalidArgumentError at load', async () => {
    const zip = await ZipArchive.open(REAL);
    let entries: { name: string; data: Uint8Array }[];
    try {
      const list = [...zip.entries.values()];
      const data = await zip.readEntries(list);
      entries = list.map((e) => ({ name: e.name, data: Uint8Array.from(data.get(e.name)!) }));
    } finally {
      await zip.close();
    }
    const pkl = entries.find((e) => e.name.endsWith('data.pkl'))!;
    for (const type of ['IntStorage', 'BoolStorage', 'ByteStorage']) {
      const swapped = Buffer.from(Buffer.from(pkl.data).toString('latin1').replace('FloatStorage', type), 'latin1');
      const file = join(dir, `${type}.pt`);
      writeFileSync(file, makeZip(entries.map((e) => ({ name: e.name, data: e === pkl ? swapped : e.data }))));
      for (const read of [
        async () => readArchitecture(file, await readStateDictIndex(file)),
        async () => readArchitecture(file, [...(await readStateDict(file)).values()]),
      ]) {
        const error = await read().catch((e: unknown) => e);
        expect(ModelFileError.isInstance(error), String(error)).toBe(true);
        expect((error as Error).message).toMatch(new RegExp(`${file}: tensor initial_conv\\.weight has dtype \\w+, expected a floating-point type`));
      }
    }
  });
});
