import { execFile, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODELS_DIR, REPO, SHARED } from '../../../test-support/shared.js';

// The workflow's `evaluate` rule: one `metaspliceai evaluate` per chromosome, then
// `evaluate-merge`. The merged tables and metrics must equal one evaluate run byte for byte.

const HERE = resolve(REPO, 'examples/snakemake');
const SNAKEFILE = join(HERE, 'Snakefile');
const BIN = resolve(REPO, 'packages/cli/dist/bin.js');
const MODEL = ['--model', 'openspliceai', '--set', 'openspliceai-mane', '--context', '80', '--models-dir', MODELS_DIR];

function run(command: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(command, args, { cwd, env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' }, maxBuffer: 1 << 26 }, (error, stdout, stderr) => {
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('examples/snakemake: evaluate sharded by chromosome, merged byte for byte', () => {
  let root: string;

  beforeAll(async () => {
    const version = spawnSync('snakemake', ['--version'], { encoding: 'utf8' });
    if (version.error || version.status !== 0)
      throw new Error('snakemake is not installed: apt-get install -y snakemake (or pip install "snakemake>=7.21,<8")');
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build first (pnpm test does)`);
    root = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-snakemake-eval-'));
    // Two contigs cut from the hg19 chr10 excerpt, each holding TUBB8 (on '-') and a copy of it on
    // '+' in the second, so the shards differ; ../shared stays read-only.
    const fasta = (await fs.readFile(join(SHARED, 'data/chr10_hg19_test.fa'), 'utf8')).split('\n').slice(1).join('');
    const a = fasta.slice(90000, 100000); // chr10:90001-100000
    const wrap = (s: string) => s.match(/.{1,60}/g)!.join('\n');
    await fs.writeFile(join(root, 'genome.fa'), `>chrA\n${wrap(a)}\n>chrB\n${wrap(a.slice(0, 6000))}\n`);
    // TUBB8 exons (0-based starts, as the table writes them) shifted by 90000.
    const shift = (list: number[]) => list.map((x) => `${x - 90000},`).join('');
    const starts = [92892, 94554, 94743, 95121];
    const ends = [94054, 94665, 94852, 95529];
    await fs.writeFile(
      join(root, 'genes.tsv'),
      '#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\n' +
        `TUBB8\tchrA\t-\t2892\t5529\t${shift(starts)}\t${shift(ends)}\n` +
        `PLUSGENE\tchrB\t+\t1000\t4000\t1000,2500,\t2000,4000,\n` +
        `TUBB8B\tchrB\t-\t2892\t5529\t${shift(starts)}\t${shift(ends)}\n`,
    );
    await fs.writeFile(
      join(root, 'config.yaml'),
      [
        `models_dir: ${MODELS_DIR}`,
        'model: openspliceai',
        'set: openspliceai-mane',
        'context: 80',
        'threads: 1',
        'outdir: results',
        'steps: [evaluate]',
        'evaluate:',
        '  fasta: genome.fa',
        '  annotation: genes.tsv',
        '  chromosomes: [chrB, chrA]',
        '  extra: "--tn-sample 2 --seed 7 --nucleotide-scores"',
        '',
      ].join('\n'),
    );
  });

  it('merges the per-chromosome runs into exactly what one run writes', async () => {
    const single = await run(
      process.execPath,
      [
        BIN,
        'evaluate',
        ...MODEL,
        '--fasta',
        'genome.fa',
        '--annotation',
        'genes.tsv',
        '--tn-sample',
        '2',
        '--seed',
        '7',
        '--nucleotide-scores',
        '--output-dir',
        'single',
        '--quiet',
      ],
      root,
    );
    expect(single.stderr).toBe('');
    expect(single.code).toBe(0);
    const sm = await run('snakemake', ['-s', SNAKEFILE, '--directory', root, '--configfile', join(root, 'config.yaml'), '--cores', '2'], root);
    expect(sm.code, sm.stderr).toBe(0);
    expect(existsSync(join(root, 'results/shards/evaluate/chrA/chunks/run.json'))).toBe(true);
    expect(existsSync(join(root, 'results/shards/evaluate/chrB/chunks/run.json'))).toBe(true);
    for (const name of ['splice_positions_enhanced.tsv', 'splice_errors.tsv', 'nucleotide_scores.tsv', 'evaluation_metrics.json']) {
      const merged = await fs.readFile(join(root, 'results/evaluate', name));
      const one = await fs.readFile(join(root, 'single', name));
      expect(merged.toString('latin1'), name).toBe(one.toString('latin1'));
    }
    // The manifest too, but for the seconds each gene took.
    const noTime = (t: string) => t.replace(/\t[0-9.]+(\t[^\t]*\t[^\t]*\t)[^\t\n]+$/gm, '\tT$1T');
    const manifest = await fs.readFile(join(root, 'results/evaluate/gene_manifest.tsv'), 'utf8');
    expect(noTime(manifest)).toBe(noTime(await fs.readFile(join(root, 'single/gene_manifest.tsv'), 'utf8')));
    expect(
      manifest
        .split('\n')
        .slice(1, 4)
        .map((l) => l.split('\t')[0]),
    ).toEqual(['TUBB8', 'PLUSGENE', 'TUBB8B']);
    const metrics = JSON.parse(await fs.readFile(join(root, 'results/evaluate/evaluation_metrics.json'), 'utf8'));
    expect(metrics.genes).toBe(3);
    expect(metrics.acceptor.sites).toBe(3 + 1 + 3);
  });
});
