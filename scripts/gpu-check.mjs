#!/usr/bin/env node
/**
 * Checks `--device gpu` against the CPU, end to end through the CLI, for each 10000-flank 5-model
 * ensemble: probabilities on N nt of chr10 (repeated), the fixture sequences against their expected
 * outputs, and SpliceAI strings for 200 SNVs in TUBB8. Prints one JSON line per run and a summary.
 *
 *   node scripts/gpu-check.mjs --models-dir ../shared/models --data ../shared [--nt 1000000]
 *     [--families spliceai,openspliceai] [--cli packages/cli/dist/index.js] [--out DIR] [--target cpu]
 *
 * `--data` holds data/chr10_hg19_test.fa and fixtures/ (as ../shared does). Exit code 1 when a GPU
 * output differs from the CPU's by more than 1e-4 or a string differs.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const { values: args } = parseArgs({
  options: {
    'models-dir': { type: 'string', default: '../shared/models' },
    data: { type: 'string', default: '../shared' },
    nt: { type: 'string', default: '1000000' },
    families: { type: 'string', default: 'spliceai,openspliceai' },
    cli: { type: 'string', default: 'packages/cli/dist/index.js' },
    out: { type: 'string' },
    // `cpu` dry-runs this script on a machine without a GPU.
    target: { type: 'string', default: 'gpu' },
  },
});
const TOLERANCE = 1e-4;
const FAMILIES = {
  spliceai: { set: 'spliceai', fixtureKey: 'spliceai_ensemble' },
  openspliceai: { set: 'openspliceai-mane', fixtureKey: 'openspliceai_mane_10000_ensemble' },
};
const { runCli } = await import(pathToFileURL(resolve(args.cli)).href);
const modelsDir = resolve(args['models-dir']);
const fasta = resolve(args.data, 'data/chr10_hg19_test.fa');
const fixtures = resolve(args.data, 'fixtures');
const work = args.out ? resolve(args.out) : await fs.mkdtemp(join(tmpdir(), 'metaspliceai-gpu-'));
await fs.mkdir(work, { recursive: true });
const results = [];

function report(row) {
  results.push(row);
  console.log(JSON.stringify(row));
}

/** Runs the CLI in this process; returns seconds taken (throws on a non-zero exit). */
async function cli(argv) {
  const errors = [];
  const io = {
    stdout: process.stdout,
    stderr: { write: (s) => (errors.push(String(s)), true) },
    stdin: process.stdin,
    cwd: process.cwd(),
    env: process.env,
    stderrIsTTY: false,
  };
  const started = performance.now();
  const code = await runCli(argv, io);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${errors.join('').trim()} (metaspliceai ${argv[0]} exited ${code})`);
  return seconds;
}

/** The probability columns of a predict TSV, in row order. */
async function readProbabilities(file) {
  const lines = (await fs.readFile(file, 'utf8')).split('\n');
  const values = [];
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const cols = line.split('\t');
    values.push(Number(cols[2]), Number(cols[3]), Number(cols[4]));
  }
  return Float64Array.from(values);
}

function maxDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** chr10 of the test FASTA, N-free, repeated to `nt` bases. */
async function benchSequence(nt) {
  const text = await fs.readFile(fasta, 'utf8');
  const region = text.split('\n').slice(1).join('').replace(/N/gi, '').toUpperCase();
  let sequence = '';
  while (sequence.length < nt) sequence += region;
  return sequence.slice(0, nt);
}

async function snvVcf() {
  const sequence = (await fs.readFile(fasta, 'utf8')).split('\n').slice(1).join('');
  const lines = ['##fileformat=VCFv4.2', '##contig=<ID=10>', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO'];
  // TUBB8 spans 92893..95529 (1-based; the FASTA starts at chr10:1).
  for (let i = 0; i < 200; i++) {
    const pos = 92_900 + i * 13;
    const ref = sequence[pos - 1].toUpperCase();
    lines.push(`10\t${pos}\t.\t${ref}\t${ref === 'A' ? 'C' : 'A'}\t.\t.\t.`);
  }
  const file = join(work, 'snvs.vcf');
  await fs.writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

const strings = async (file) =>
  (await fs.readFile(file, 'utf8'))
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t')[7]);

let failed = false;
const nt = Number(args.nt);
const input = join(work, 'input.fa');
await fs.writeFile(input, `>bench\n${(await benchSequence(nt)).replace(/(.{60})/g, '$1\n')}\n`);
const vcf = await snvVcf();
const fixtureNames = ['tubb8_window', 'random1200_seed7', 'short50'];

/** Runs one step; a failure is reported (and fails the check) without stopping the others. */
async function step(family, run, body) {
  try {
    await body();
  } catch (error) {
    failed = true;
    report({ family, run, error: String(error?.message ?? error).slice(0, 2000) });
  }
}

for (const family of args.families.split(',')) {
  const { set, fixtureKey } = FAMILIES[family];
  const common = ['--model', family, '--set', set, '--context', '10000', '--models-dir', modelsDir, '--quiet'];
  const predict = (device, out, extra = []) => cli(['predict', ...common, '--fasta', input, '--device', device, '--output', out, ...extra]);
  const gpu = args.target;

  const cpuOut = join(work, `${family}-cpu.tsv`);
  let cpuSeconds;
  await step(family, 'predict cpu', async () => {
    cpuSeconds = await predict('cpu', cpuOut);
    report({ family, run: 'predict cpu', nt, seconds: cpuSeconds, ntPerS: nt / cpuSeconds });
  });
  for (const [run, extra] of [
    ['predict gpu (default tiles)', []],
    ['predict gpu (tile 100000, batch 8)', ['--tile-size', '100000', '--batch-size', '8']],
  ]) {
    await step(family, run, async () => {
      const out = join(work, `${family}-gpu.tsv`);
      const seconds = await predict(gpu, out, extra);
      const diff = maxDiff(await readProbabilities(cpuOut), await readProbabilities(out));
      failed ||= !(diff <= TOLERANCE);
      report({ family, run, nt, seconds, ntPerS: nt / seconds, vsCpu: cpuSeconds / seconds, maxDiffVsCpu: diff });
    });
  }

  // The fixture sequences, on the GPU, against the independent reference.
  await step(family, 'fixtures on gpu', async () => {
    let fixtureDiff = 0;
    for (const name of fixtureNames) {
      const expected = JSON.parse(await fs.readFile(join(fixtures, 'expected', `${name}.json`), 'utf8')).outputs[fixtureKey].flat();
      const record = (await fs.readFile(join(fixtures, 'sequences.fa'), 'utf8')).split('>').find((r) => r.startsWith(name));
      const fa = join(work, `${name}.fa`);
      await fs.writeFile(fa, `>${record}`);
      const out = join(work, `${name}-${family}.tsv`);
      await cli(['predict', ...common, '--fasta', fa, '--device', gpu, '--output', out]);
      fixtureDiff = Math.max(fixtureDiff, maxDiff(Float64Array.from(expected), await readProbabilities(out)));
    }
    report({ family, run: 'fixtures on gpu', maxDiffVsReference: fixtureDiff });
  });

  // Variant scoring: identical strings on both devices.
  await step(family, 'score 200 SNVs', async () => {
    const score = async (device) => {
      const out = join(work, `${family}-${device}.vcf`);
      const seconds = await cli([
        'score',
        ...common,
        '-I',
        vcf,
        '-O',
        out,
        '-R',
        fasta,
        '-A',
        join(fixtures, 'tubb8_grch37.tsv'),
        '-D',
        '50',
        '--device',
        device,
      ]);
      return { seconds, strings: await strings(out) };
    };
    const onCpu = await score('cpu');
    const onGpu = await score(gpu);
    // The pairs that differ, to tell a delta on a rounding boundary (float noise) from a bug.
    const pairs = onCpu.strings.flatMap((s, i) => (s === onGpu.strings[i] ? [] : [{ cpu: s, gpu: onGpu.strings[i] }]));
    failed ||= pairs.length > 0 || onCpu.strings.length !== 200;
    report({
      family,
      run: 'score 200 SNVs',
      cpuVariantsPerS: 200 / onCpu.seconds,
      gpuVariantsPerS: 200 / onGpu.seconds,
      stringsDiffering: pairs.length,
      differing: pairs.slice(0, 5),
    });
  });
}

console.log('\n| family | run | nt/s or variants/s | vs CPU | max diff |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of results) {
  const speed = r.ntPerS
    ? `${Math.round(r.ntPerS).toLocaleString('en')} nt/s`
    : r.gpuVariantsPerS
      ? `${r.gpuVariantsPerS.toFixed(2)} var/s (cpu ${r.cpuVariantsPerS.toFixed(2)})`
      : '-';
  const ratio = r.vsCpu ? `${r.vsCpu.toFixed(2)}x` : '-';
  const diff = r.error
    ? `error: ${r.error.slice(0, 200)}`
    : (r.maxDiffVsCpu ?? r.maxDiffVsReference ?? (r.stringsDiffering !== undefined ? `${r.stringsDiffering} strings differ` : '-'));
  console.log(`| ${r.family} | ${r.run} | ${speed} | ${ratio} | ${typeof diff === 'number' ? diff.toExponential(2) : diff} |`);
}
if (!args.out) await fs.rm(work, { recursive: true, force: true });
process.exitCode = failed ? 1 : 0;
