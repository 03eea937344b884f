import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { MetaSpliceAIError } from '@metaspliceai/core';
import { inspectKerasModel, readKerasModel } from '../src/keras/index.js';
import { MODELS_DIR } from '../../../test-support/shared.js';

it('probe', async () => {
  const orig = readFileSync(join(MODELS_DIR, 'spliceai/spliceai1.h5'));
  const dir = mkdtempSync(join(tmpdir(), 'h5p-'));
  let seed = Number(process.env.SEED ?? 1);
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const kinds: Record<string, number> = {};
  const t0 = Date.now();
  for (let i = 0; i < Number(process.env.N ?? 200); i++) {
    const b = Buffer.from(orig);
    const limit = rand() < 0.7 ? 70000 : b.length;
    const n = 1 + Math.floor(rand() * 8);
    for (let k = 0; k < n; k++) b[Math.floor(rand() * limit)] = Math.floor(rand() * 256);
    const f = join(dir, `m${i}.h5`);
    writeFileSync(f, b);
    const s = Date.now();
    for (const read of [inspectKerasModel, readKerasModel]) {
      try { await read(f); kinds.ok = (kinds.ok ?? 0) + 1; }
      catch (e) {
        const key = MetaSpliceAIError.isInstance(e) ? (e as Error).message.replace(/^.*?: /, '').slice(0, 70) : 'RAW ' + String(e);
        kinds[key] = (kinds[key] ?? 0) + 1;
      }
    }
    if (Date.now() - s > 2000) console.log('slow', i, Date.now() - s);
  }
  console.log(Date.now() - t0, 'ms', 'ok', kinds.ok, Object.entries(kinds).filter(([k]) => k.startsWith('RAW') || /HDF5 could not/.test(k)).map(([k,v])=>k.replace(/m\d+\.h5/,'')+' '+v).join('\n'));
});
