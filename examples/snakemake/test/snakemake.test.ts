import { execFile, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODELS_DIR, REPO, SHARED } from '../../../test-support/shared.js';

// The scale-out workflow (examples/snakemake) run as CI runs it: snakemake --cores 2 on the fixture
// data. The merged outputs must equal one metaspliceai run byte for byte, and a deleted or failed
// shard must rerun alone.

const HERE = resolve(REPO, 'examples/snakemake');
const SNAKEFILE = join(HERE, 'Snakefile');
const BIN = resolve(REPO, 'packages/cli/dist/bin.js');
const MODEL = ['--model', 'openspliceai', '--set', 'openspliceai-mane', '--context', '80', '--models-dir', MODELS_DIR];
const SCORE_ARGS = ['-R', 'chr10_hg19_test.fa', '-A', 'tubb8_grch37.tsv', '-D', '50', '-M', '0', ...MODEL];
const REGION = '10:92901-95503'; // 2603 nt: uneven shards; `10` resolves to the FASTA's chr10

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    execFile(command, args, { cwd, env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' }, maxBuffer: 1 << 26 }, (error, stdout, stderr) => {
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const snakemake = (cwd: string, ...args: string[]) =>
  run('snakemake', ['-s', SNAKEFILE, '--directory', cwd, '--configfile', join(cwd, 'config.yaml'), '--cores', '2', ...args], cwd);
const metaspliceai = (cwd: string, ...args: string[]) => run(process.execPath, [BIN, ...args], cwd);

/** The jobs a snakemake run started, from its log on stderr, as `rule` or `rule[shard]`, sorted. */
function jobs(log: string): string[] {
  const out: { rule: string; shard?: string }[] = [];
  for (const line of log.split('\n')) {
    const rule = /^(?:local)?rule (\w+):$/.exec(line);
    const shard = /^\s+wildcards: shard=(\d+)$/.exec(line);
    if (rule) out.push({ rule: rule[1] });
    else if (shard && out.length) out[out.length - 1].shard = shard[1];
  }
  return out.map((j) => (j.shard ? `${j.rule}[${j.shard}]` : j.rule)).sort();
}

/** Fails the test (never skips it) when snakemake or the built CLI is missing: CI installs snakemake. */
function requireTools(): void {
  const version = spawnSync('snakemake', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    throw new Error(
      'snakemake is not installed (or does not run), so the scale-out workflow in examples/snakemake cannot be tested: ' +
        'install it with `apt-get install -y snakemake` (Debian; .ci/run does this when it is missing), or `pip install "snakemake>=7.21,<8"`',
    );
  }
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build first (pnpm test does)`);
}

/** Byte equality, shown as a line diff when it fails (latin1 maps each byte to one character). */
async function expectSameBytes(path: string, expected: Buffer): Promise<void> {
  const actual = await fs.readFile(path);
  expect(actual.toString('latin1'), `${path} differs from the single run`).toBe(expected.toString('latin1'));
  expect(actual.equals(expected)).toBe(true);
}

async function mtimes(dir: string, suffix: string): Promise<Map<string, number>> {
  const names = (await fs.readdir(dir)).filter((n) => n.endsWith(suffix)).sort();
  return new Map(await Promise.all(names.map(async (n) => [n, (await fs.stat(join(dir, n))).mtimeMs] as [string, number])));
}

describe('examples/snakemake: sharded score and predict, merged byte for byte', () => {
  let root: string;

  beforeAll(async () => {
    root = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-snakemake-'));
    // ../shared is read-only: the workflow runs on copies.
    await fs.copyFile(join(SHARED, 'data/chr10_hg19_test.fa'), join(root, 'chr10_hg19_test.fa'));
    await fs.copyFile(join(SHARED, 'data/chr10_hg19_test.fa.fai'), join(root, 'chr10_hg19_test.fa.fai'));
    await fs.copyFile(join(REPO, 'examples/library/data/tubb8_grch37.tsv'), join(root, 'tubb8_grch37.tsv'));
    await fs.copyFile(join(HERE, 'data/tubb8.vcf'), join(root, 'in.vcf'));
    await fs.writeFile(
      join(root, 'config.yaml'),
      [
        `models_dir: ${JSON.stringify(MODELS_DIR)}`,
        'model: openspliceai',
        'set: openspliceai-mane',
        'context: 80',
        'shards: 4',
        'threads: 1',
        'outdir: results',
        'steps: [score, predict]',
        'score: {vcf: in.vcf, reference: chr10_hg19_test.fa, annotation: tubb8_grch37.tsv, distance: 50, mask: 0, extra: ""}',
        `predict: {fasta: chr10_hg19_test.fa, region: "${REGION}", strand: "+", extra: ""}`,
        '',
      ].join('\n'),
    );
  });

  /** One `metaspliceai score` over the whole VCF, with the options the workflow gives each shard. */
  let single: Promise<Buffer> | undefined;
  const singleScore = () =>
    (single ??= (async () => {
      const r = await metaspliceai(root, 'score', '-I', 'in.vcf', '-O', 'single.vcf', ...SCORE_ARGS);
      expect(r.code, r.stderr).toBe(3); // every record written; some skipped for input problems (malformed, REF mismatch)
      expect(r.stderr).toMatch(/^score: 37 records, 29 scored .* 8 not scored: .*2 malformed line/m);
      return fs.readFile(join(root, 'single.vcf'));
    })());

  afterAll(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  it('runs with --cores 2, and the merged VCF and TSV equal single runs byte for byte; a deleted shard reruns alone; another shard count splits afresh', async () => {
    requireTools();
    const first = await snakemake(root);
    expect(first.code, first.stderr).toBe(0);
    expect(jobs(first.stderr)).toEqual([
      'all',
      'merge_predictions',
      'merge_scores',
      'predict_shard[000]',
      'predict_shard[001]',
      'predict_shard[002]',
      'predict_shard[003]',
      'score_shard[000]',
      'score_shard[001]',
      'score_shard[002]',
      'score_shard[003]',
      'split_vcf',
    ]);

    // Every shard got the header and some of the records, in order.
    const input = await fs.readFile(join(root, 'in.vcf'), 'latin1');
    const header = input.slice(0, input.indexOf('#CHROM'));
    const parts = await Promise.all([0, 1, 2, 3].map((i) => fs.readFile(join(root, `results/shards/score-of-4/00${i}.vcf`), 'latin1')));
    const bodies = parts.map((p) => p.slice(p.indexOf('\n', p.indexOf('#CHROM')) + 1));
    for (const p of parts) expect(p.startsWith(header)).toBe(true);
    expect(bodies.join('')).toBe(input.slice(input.indexOf('\n', input.indexOf('#CHROM')) + 1));
    for (const b of bodies) expect(b.split('\n').filter((l) => l && !l.startsWith('#')).length).toBeGreaterThanOrEqual(9);

    const expected = await singleScore();
    await expectSameBytes(join(root, 'results/score.vcf'), expected);
    expect(expected.toString('latin1')).toMatch(/^##metaspliceai_model=adapter=openspliceai;set=openspliceai-mane;context=80;/m);

    const whole = await metaspliceai(
      root,
      'predict',
      ...MODEL,
      '--fasta',
      'chr10_hg19_test.fa',
      '--region',
      REGION,
      '--format',
      'tsv',
      '--output',
      'single.tsv',
      '--quiet',
    );
    expect(whole.code, whole.stderr).toBe(0);
    const tsv = await fs.readFile(join(root, 'single.tsv'));
    expect(tsv.toString().split('\n')).toHaveLength(2603 + 2);
    await expectSameBytes(join(root, 'results/predict.tsv'), tsv);

    // A deleted shard output (and the merge that used it) is made again; nothing else runs.
    const shards = join(root, 'results/shards/score-of-4');
    const before = await mtimes(shards, '.scored.vcf');
    await fs.rm(join(shards, '002.scored.vcf'));
    await fs.rm(join(root, 'results/score.vcf'));
    const again = await snakemake(root);
    expect(again.code, again.stderr).toBe(0);
    expect(jobs(again.stderr)).toEqual(['all', 'merge_scores', 'score_shard[002]']);
    const after = await mtimes(shards, '.scored.vcf');
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const name of ['000.scored.vcf', '001.scored.vcf', '003.scored.vcf']) expect(after.get(name)).toBe(before.get(name));
    await expectSameBytes(join(root, 'results/score.vcf'), expected);

    const idle = await snakemake(root);
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.stderr).toMatch(/Nothing to be done/);

    // Another shard count splits afresh: the parts of the 4-way split are never reused.
    const three = await snakemake(root, '--config', 'shards=3', 'steps=score');
    expect(three.code, three.stderr).toBe(0);
    expect(jobs(three.stderr)).toEqual(['all', 'merge_scores', 'score_shard[000]', 'score_shard[001]', 'score_shard[002]', 'split_vcf']);
    await expectSameBytes(join(root, 'results/score.vcf'), expected);
  });

  it('a failed shard leaves the others done; the rerun resumes with that shard alone and the merge still equals a single run', async () => {
    requireTools();
    // A metaspliceai that fails on shard 002 while the marker file exists.
    const marker = join(root, 'fail-marker');
    const wrapper = join(root, 'flaky-metaspliceai.sh');
    await fs.writeFile(
      wrapper,
      `#!/usr/bin/env bash\nif [ -e ${JSON.stringify(marker)} ] && [[ " $* " == *"/002.vcf "* ]]; then echo "injected failure" >&2; exit 7; fi\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`,
      { mode: 0o755 },
    );
    await fs.writeFile(marker, '');
    // '-' strand this time: the merge must put the shards in reverse order.
    const config = ['outdir=resume', `metaspliceai=${wrapper}`];
    const predictMinus = join(root, 'minus.yaml');
    await fs.writeFile(predictMinus, `predict: {fasta: chr10_hg19_test.fa, region: "${REGION}", strand: "-", extra: ""}\n`);
    const failed = await snakemake(root, '--configfile', join(root, 'config.yaml'), predictMinus, '--config', ...config, '--keep-going');
    expect(failed.code).not.toBe(0);
    expect(failed.stderr.match(/^Error in rule \w+:$/gm)).toEqual(['Error in rule score_shard:']);
    expect(failed.stderr).toMatch(/^Error in rule score_shard:\n(?: {4}.*\n)*? {4}output: resume\/shards\/score-of-4\/002\.scored\.vcf$/m);
    expect(await fs.readFile(join(root, 'resume/logs/score-of-4/002.log'), 'utf8')).toMatch(/injected failure/);
    expect(existsSync(join(root, 'resume/shards/score-of-4/002.scored.vcf'))).toBe(false);
    expect(existsSync(join(root, 'resume/score.vcf'))).toBe(false);
    for (const s of ['000', '001', '003']) expect(existsSync(join(root, `resume/shards/score-of-4/${s}.scored.vcf`))).toBe(true);

    await fs.rm(marker);
    const resumed = await snakemake(root, '--configfile', join(root, 'config.yaml'), predictMinus, '--config', ...config);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(jobs(resumed.stderr)).toEqual(['all', 'merge_scores', 'score_shard[002]']);
    await expectSameBytes(join(root, 'resume/score.vcf'), await singleScore());

    const minus = await metaspliceai(
      root,
      'predict',
      ...MODEL,
      '--fasta',
      'chr10_hg19_test.fa',
      '--region',
      REGION,
      '--strand',
      '-',
      '--output',
      'minus.tsv',
      '--quiet',
    );
    expect(minus.code, minus.stderr).toBe(0);
    const tsv = await fs.readFile(join(root, 'minus.tsv'));
    expect(tsv.toString().split('\n')[1]).toMatch(/^chr10:92901-95503\t95503\t/);
    await expectSameBytes(join(root, 'resume/predict.tsv'), tsv);
  });
});
