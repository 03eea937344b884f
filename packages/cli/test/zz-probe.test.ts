import { it } from 'vitest';
import { MODELS_DIR } from '../../../test-support/shared.js';
import { cli } from './helpers.js';

const base = ['score', '--model', 'openspliceai', '--set', 'openspliceai-mane', '--context', '80', '--models-dir', MODELS_DIR, '-R', '/work/shared/data/chr10_hg19_test.fa', '-A', '/work/shared/fixtures/tubb8_grch37.tsv', '--no-checksums'];
it('probe', async () => {
  for (const f of ['bad.vcf', 'bad_crlf.vcf', 'bad.vcf.gz', 'empty.vcf']) {
    const r = await cli([...base, '-I', '/tmp/hw/' + f]);
    const body = r.stdout.split(/\r?\n/).filter((l) => l && !l.startsWith('#'));
    console.log(f, 'code', r.code, body.map((l) => l.split('\t').slice(0, 3).join(':') + ' ' + (/SpliceAI=([^;\t]*)/.exec(l)?.[1] ?? '-')).join('\n'), '\nstderr:', r.stderr.slice(0, 2000));
  }
  const s = await cli([...base, '-I', '/tmp/hw/bad.vcf', '--strict', '--quiet']);
  console.log('strict', s.code, s.stderr.split('\n').length);
});
