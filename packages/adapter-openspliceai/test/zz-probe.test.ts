import { it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOpenSpliceAIAdapter } from '../src/index.js';
import { ZipArchive } from '../src/pt/zip.js';
import { makeZip } from './helpers/zip-writer.js';
import { MODELS_DIR } from '../../../test-support/shared.js';
const REAL = join(MODELS_DIR, 'openspliceai/openspliceai-mane/80nt/model_80nt_rs10.pt');
it('probe', async () => {
  const zip = await ZipArchive.open(REAL);
  const list = [...zip.entries.values()];
  const data = await zip.readEntries(list);
  await zip.close();
  const pkl = Buffer.from(data.get(list[0].name)!);
  console.log(list.map((e) => e.name).slice(0, 5), pkl.indexOf('FloatStorage'), pkl.toString('latin1').slice(0, 200));
  for (const t of ['IntStorage', 'LongStorage', 'HalfStorage', 'BoolStorage']) {
    const s = Buffer.from(pkl.toString('latin1').split('FloatStorage').join(t), 'latin1');
    const file = `/tmp/fz/${t}.pt`;
    writeFileSync(file, makeZip(list.map((e, i) => ({ name: e.name, data: i === 0 ? s : data.get(e.name)! }))));
    const a = createOpenSpliceAIAdapter();
    for (const [k, f] of [['inspect', () => a.inspect(file)], ['load', () => a.load({ file, context: 80 })]] as const) {
      try { await (f as () => Promise<unknown>)(); console.log(t, k, 'ok'); } catch (e) { console.log(t, k, (e as any).code, (e as Error).message.slice(0, 200)); }
    }
  }
});
