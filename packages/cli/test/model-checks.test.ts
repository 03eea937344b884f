import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, MOCK_ADAPTER } from './helpers.js';

// predict and score run a set only on the files its model_info.json records: a member whose
// sha256 differs gives one warning naming it (--strict: exit 1 before anything is written), a
// listed member that is missing is refused, and score's header carries the hashes of the files
// that actually ran.

const A = JSON.stringify({ context: 80 });
const B = `${JSON.stringify({ context: 80 })} `;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const WRONG = 'c'.repeat(64);

async function project(): Promise<{ root: string; models: string[]; b: string; info: string }> {
  const root = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-checks-'));
  const files: Record<string, string> = {
    'models/alpha/a_80.mock': A,
    'models/alpha/b_80.mock': B,
    'genome.fa': `>chr4\n${'ACGTTGCA'.repeat(250)}\n`,
    'genes.txt': '#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\nONE\t4\t+\t200\t1800\t200,900,\t500,1800,\n',
    'in.vcf': '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n4\t600\t.\tA\tG\t.\t.\t.\n',
  };
  for (const [p, text] of Object.entries(files)) {
    await fs.mkdir(dirname(join(root, p)), { recursive: true });
    await fs.writeFile(join(root, p), text);
  }
  const models = ['--models-dir', join(root, 'models'), '--adapter', MOCK_ADAPTER, '--model', 'mock'];
  expect((await cli(['models', 'index', '--models-dir', join(root, 'models'), '--adapter', MOCK_ADAPTER])).code).toBe(0);
  return { root, models, b: join(root, 'models/alpha/b_80.mock'), info: join(root, 'models/alpha/metadata/model_info.json') };
}

async function recordWrongSha(info: string): Promise<void> {
  const parsed = JSON.parse(await fs.readFile(info, 'utf8'));
  parsed.files[1].sha256 = WRONG;
  await fs.writeFile(info, JSON.stringify(parsed));
}

describe('model files checked against model_info.json on load', () => {
  it('predict warns once, naming the file; --strict exits 1 and writes nothing', async () => {
    const { root, models, b, info } = await project();
    await recordWrongSha(info);
    const warning = `warning: ${b}: sha256 ${sha(B)} differs from ${WRONG} in model_info.json; it is not the file that was indexed or pulled\n`;
    const r = await cli(['predict', ...models, '--sequence', 'ACGTAGGTAAGT', '--quiet'], { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(warning);
    expect(r.stdout.split('\n').length).toBeGreaterThan(12);

    const strict = await cli(['predict', ...models, '--sequence', 'ACGTAGGTAAGT', '--strict', '--output', 'out.tsv'], { cwd: root });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(
      new RegExp(
        `^error: ${b}: sha256 [0-9a-f]{64} differs from ${WRONG} in model_info\\.json; .*; strict checking refuses it\\nhint: pull the set again .* re-index them: metaspliceai models index .*\\n$`,
      ),
    );
    expect(await fs.readdir(root)).not.toContain('out.tsv');
  });

  it('score warns, records the hashes of the files that ran in its header, and --strict exits 1', async () => {
    const { root, models, b, info } = await project();
    await recordWrongSha(info);
    const args = ['score', ...models, '-R', 'genome.fa', '-A', 'genes.txt', '-I', 'in.vcf', '--quiet'];
    const r = await cli(args, { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning: ${b}: sha256 ${sha(B)} differs from ${WRONG} in model_info.json`);
    expect(r.stdout).toMatch(
      new RegExp(`^##metaspliceai_model=adapter=mock;set=alpha;context=80;members=a_80\\.mock:sha256:${sha(A)},b_80\\.mock:sha256:${sha(B)};`, 'm'),
    );

    const strict = await cli([...args, '--strict'], { cwd: root });
    expect(strict.code).toBe(1);
    expect(strict.stdout).toBe('');
    expect(strict.stderr).toMatch(new RegExp(`^error: ${b}: sha256 .*; strict checking refuses it\\n`, 'm'));
  });

  it('predict and score refuse a set whose model_info.json lists a missing member', async () => {
    const { root, models, b, info } = await project();
    await fs.rm(b);
    const message = `error: ${info}: lists 1 of its 2 members that are missing: b_80.mock; refusing to load an incomplete mock/alpha/80\n`;
    const predict = await cli(['predict', ...models, '--sequence', 'ACGT'], { cwd: root });
    expect(predict.code).toBe(1);
    expect(predict.stderr).toMatch(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}hint: pull the set again`));
    const score = await cli(['score', ...models, '-R', 'genome.fa', '-A', 'genes.txt', '-I', 'in.vcf'], { cwd: root });
    expect(score.code).toBe(1);
    expect(score.stderr).toContain(message);
  });
});
