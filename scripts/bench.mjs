#!/usr/bin/env node
// `pnpm bench`: our speed and memory next to the PyTorch reference (../shared/bench/bench_torch.py),
// measured in the same run on this machine. Prints a table; `--json` prints the raw records.
// Not a test: nothing here passes or fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const shared = resolve(repo, '..', 'shared');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const only = flag('only', 'all');
const modelsDir = resolve(repo, process.env.METASPLICEAI_MODELS_DIR ?? resolve(shared, 'models'));
const fasta = resolve(shared, 'data/chr10_hg19_test.fa');
const python = flag('python', '/usr/bin/python3');
const threads = Number(flag('threads', '2'));
/**
 * FLOPs we perform per output position of a 10000-flank SpliceNet (32 channels) with tiles of
 * `tile` outputs: convolutions only, each computed where later layers need it, as our graphs are.
 * (The reference computes every layer over the whole 15000-input window: 10.4 GMAC per 5000 outputs.)
 */
function flopPerOutput(tile, context = 10_000) {
  const kernels = [...Array(8).fill(11), ...Array(4).fill(21), ...Array(4).fill(41)];
  const dilations = [...Array(4).fill(1), ...Array(4).fill(4), ...Array(4).fill(10), ...Array(4).fill(25)];
  let length = tile + context;
  let macs = 4 * 32 * length + 32 * 32 * length; // initial conv and skip
  kernels.forEach((k, i) => {
    for (let conv = 0; conv < 2; conv++) {
      length -= dilations[i] * (k - 1);
      macs += 32 * 32 * k * length;
    }
    if (i % 4 === 3) macs += 32 * 32 * length; // skip conv after each group
  });
  macs += 3 * 32 * tile;
  return (2 * macs) / tile;
}
/** The CLI's default tile (core's DEFAULT_TILE_SIZE). */
const CLI_TILE = 40_000;

const records = [];
const rows = [];

function ours(workload, options) {
  const out = execFileSync(
    process.execPath,
    [resolve(repo, 'scripts/bench/workloads.mjs'), workload, JSON.stringify({ modelsDir, fasta, threads, ...options })],
    {
      encoding: 'utf8',
      env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
      maxBuffer: 1 << 26,
    },
  );
  const record = JSON.parse(out.trim().split('\n').pop());
  records.push(record);
  return record;
}

function referenceUncached(extra) {
  const script = resolve(shared, 'bench/bench_torch.py');
  if (!existsSync(script)) return [];
  const run = spawnSync(python, [script, '--threads', String(threads), ...extra], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.status !== 0) {
    console.error(`reference not measured (${python} ${script}): ${(run.stderr || run.error?.message || '').trim().split('\n').pop()}`);
    console.error('install it with: apt-get install -y python3-torch python3-h5py');
    return [];
  }
  const lines = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  records.push(...lines.map((l) => ({ workload: 'reference', ...l })));
  return lines;
}

const fmt = (n, digits = 0) =>
  n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
function row(workload, oursValue, unit, refValue, extra = {}) {
  rows.push({
    workload,
    ours: `${fmt(oursValue, oursValue < 100 ? 2 : 0)} ${unit}`,
    reference: refValue === undefined ? '-' : `${fmt(refValue, refValue < 100 ? 2 : 0)} ${unit}`,
    ratio: refValue ? `${fmt(unit === 's' ? refValue / oursValue : oursValue / refValue, 2)}x` : '-',
    gflops: extra.gflops === undefined ? '-' : fmt(extra.gflops, 1),
    peak: extra.gflops === undefined || !peak ? '-' : `${fmt((100 * extra.gflops) / peak, 0)}%`,
    rss: extra.rss === undefined ? '-' : `${fmt(extra.rss)} MB`,
  });
}

/** A row computed from the rows above it (a ratio, a growth): no reference, no FLOPs. */
function derivedRow(workload, ours) {
  rows.push({ workload, ours, reference: '-', ratio: '-', gflops: '-', peak: '-', rss: '-' });
}

const want = (name) => only === 'all' || only.split(',').includes(name);
const peakRun = ['windows', 'predict', 'variants', 'pangolin'].some(want) ? ours('peak', {}) : undefined;
const peak = peakRun?.gflopPerS;
const referenceRuns = new Map();
/** The reference's runs are reused between sections that ask for the same measurement. */
const cachedReference = (extra) => {
  const key = extra.join(' ');
  if (!referenceRuns.has(key)) referenceRuns.set(key, referenceUncached(extra));
  return referenceRuns.get(key);
};

if (want('windows')) {
  const ref = cachedReference(['--nt', '100000', '--batch-sizes', '4', '--repeats', '1']);
  const refOf = (family) => ref.find((r) => r.family.startsWith(family) && r.batch_size === 4);
  for (const [adapter, set, backend, nt] of [
    ['openspliceai', 'openspliceai-mane', 'onnx', 100_000],
    ['spliceai', 'spliceai', 'onnx', 100_000],
    ['spliceai', 'spliceai', 'tfjs', 20_000],
  ]) {
    const r = refOf(adapter);
    const same = ours('windows', { adapter, set, backend, nt, tileSize: 5000, batchSize: 4 });
    row(`${adapter} 10000 x5, ${backend}, ref. windows (5000 x4): ms/window/model`, same.msPerTilePerModel, 'ms', r?.ms_per_window_per_model, {});
    row(`${adapter} 10000 x5, ${backend}, ref. windows (5000 x4): nt/s`, same.ntPerS, 'nt/s', r?.nt_per_s, {
      gflops: (same.ntPerS * 5 * flopPerOutput(5000)) / 1e9,
      rss: same.peakRssMb,
    });
    if (backend === 'onnx') {
      const tiled = ours('windows', { adapter, set, backend, nt, tileSize: 40_000, batchSize: 2 });
      row(`${adapter} 10000 x5, ${backend}, 40000-nt tiles x2: nt/s`, tiled.ntPerS, 'nt/s', r?.nt_per_s, {
        gflops: (tiled.ntPerS * 5 * flopPerOutput(40_000)) / 1e9,
        rss: tiled.peakRssMb,
      });
    }
  }
}

if (want('predict')) {
  const ref = cachedReference(['--nt', '100000', '--batch-sizes', '4', '--repeats', '1']);
  for (const [adapter, set] of [
    ['openspliceai', 'openspliceai-mane'],
    ['spliceai', 'spliceai'],
  ]) {
    const r = ref.find((x) => x.family.startsWith(adapter) && x.batch_size === 4);
    const small = ours('predictCli', { adapter, set, nt: 110_000 });
    const big = ours('predictCli', { adapter, set, nt: 1_000_000 });
    row(`predict CLI ${adapter} 10000 x5, 110 kb (load included)`, small.ntPerS, 'nt/s', r?.nt_per_s, {
      gflops: (small.ntPerS * 5 * flopPerOutput(CLI_TILE)) / 1e9,
      rss: small.peakRssMb,
    });
    row(`predict CLI ${adapter} 10000 x5, 1 Mb (load included)`, big.ntPerS, 'nt/s', r?.nt_per_s, {
      gflops: (big.ntPerS * 5 * flopPerOutput(CLI_TILE)) / 1e9,
      rss: big.peakRssMb,
    });
    const short = ours('predictCli', { adapter, set, nt: 1_000_000, extra: ['--tile-size', '20000'] });
    row(`predict CLI ${adapter} 10000 x5, 1 Mb, --tile-size 20000`, short.ntPerS, 'nt/s', r?.nt_per_s, {
      gflops: (short.ntPerS * 5 * flopPerOutput(20_000)) / 1e9,
      rss: short.peakRssMb,
    });
    derivedRow(`  peak RSS growth, ${adapter}, 110 kb -> 1 Mb (9x input)`, `${fmt((100 * (big.peakRssMb - small.peakRssMb)) / small.peakRssMb, 1)} %`);
  }
}

if (want('packing')) {
  // Short records (N beyond their ends) run as cones on an all-N reference where the model has
  // stages, else in shared tiles: nt/s of --records records of 400 nt next to one sequence of the
  // same length. At the default 5,000 records (2 Mb) allow ~20 min per set on 2 cores;
  // `--only packing --records 500` for a quick look.
  const n = Number(flag('records', '5000'));
  for (const [adapter, set] of [
    ['openspliceai', 'openspliceai-mane'],
    ['spliceai', 'spliceai'],
  ]) {
    const short = ours('predictCli', { adapter, set, nt: n * 400, records: n });
    const long = ours('predictCli', { adapter, set, nt: n * 400 });
    row(`predict CLI ${adapter} 10000 x5, ${fmt(n)} records of 400 nt`, short.ntPerS, 'nt/s', undefined, { rss: short.peakRssMb });
    row(`predict CLI ${adapter} 10000 x5, one ${fmt((n * 400) / 1000)} kb sequence`, long.ntPerS, 'nt/s', undefined, { rss: long.peakRssMb });
    derivedRow('  records vs one sequence, nt/s', `${fmt(short.ntPerS / long.ntPerS, 3)}x`);
  }
}

/**
 * A substitution's cone work from the stage graphs' cost model (`macs`; the reference pass each
 * region needs once is not counted): GFLOP/s at the measured `rate`, and the rates the machine's
 * peak would give with these cuts and in the minimal cone, the floor for exact recomputation.
 */
function coneFigures(macs, rate, refRate) {
  if (!macs) return {};
  const gflop = (n) => (2 * n) / 1e9;
  const ceiling = (n) => {
    const v = peak / gflop(n);
    return `${fmt(v, 1)}${refRate ? ` (${fmt(v / refRate, 1)}x)` : ''}`;
  };
  return { gflops: gflop(macs.staged) * rate, ceiling: peak ? `${ceiling(macs.staged)}, ${ceiling(macs.minimal)} variants/s` : undefined };
}
const CEILING_LABEL = "  at the machine's peak: these cuts, the minimal cone";

if (want('variants')) {
  // SNVs at SpliceAI's default distance and at SpliceAI-lookup's (500), each next to the reference
  // run at that distance; 1-nt deletions and insertions next to the same reference rate (it runs a
  // ref and an alt window per variant, whatever the variant).
  const n = Number(flag('variants', '200'));
  const refN = Number(flag('reference-variants', '8'));
  const tubb8 = resolve(shared, 'fixtures/tubb8_grch37.tsv');
  const sets = [
    ['openspliceai', 'openspliceai-mane'],
    ['spliceai', 'spliceai'],
  ];
  const cost = new Map(sets.map(([adapter, set]) => [adapter, ours('coneCost', { adapter, set, dists: [50, 500] }).macs]));
  for (const dist of [50, 500]) {
    const ref = cachedReference(['--variants', String(refN), '--dist', String(dist), '--repeats', '1']);
    for (const [adapter, set] of sets) {
      const r = ref.find((x) => x.family === adapter);
      const kinds = dist === 50 ? ['snv', 'deletion', 'insertion'] : ['snv'];
      for (const kind of kinds) {
        const s = ours('scoreCli', { adapter, set, variants: n, dist, kind, annotation: tubb8 });
        const what = { snv: 'SNVs', deletion: '1-nt deletions', insertion: '1-nt insertions' }[kind];
        // The cost model counts substitutions; an indel's cone is about as wide but not counted.
        const cone = kind === 'snv' ? coneFigures(cost.get(adapter)[dist], s.variantsPerS, r?.variants_per_s) : {};
        row(`score CLI ${adapter} 10000 x5, ${n} ${what} in TUBB8, dist ${dist}`, s.variantsPerS, 'variants/s', r?.variants_per_s, {
          rss: s.peakRssMb,
          gflops: cone.gflops,
        });
        if (cone.ceiling) derivedRow(CEILING_LABEL, cone.ceiling);
      }
    }
  }
}

if (want('pangolin')) {
  // Pangolin's own rule (12 P(splice) networks) next to upstream's way (../shared/bench/bench_pangolin.py).
  const n = Number(flag('variants', '200'));
  const refN = Number(flag('reference-variants', '4'));
  const script = resolve(shared, 'bench/bench_pangolin.py');
  let r;
  if (existsSync(script)) {
    const run = spawnSync(python, [script, '--threads', String(threads), '--nt', '5000', '--variants', String(refN), '--dist', '50'], { encoding: 'utf8' });
    if (run.status === 0) {
      const lines = run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      records.push(...lines.map((l) => ({ workload: 'reference', ...l })));
      r = lines.find((l) => l.variants_per_s !== undefined);
    } else console.error(`pangolin reference not measured: ${(run.stderr || '').trim().split('\n').pop()}`);
  }
  const s = ours('scoreCli', { adapter: 'pangolin', variants: n, dist: 50, annotation: resolve(shared, 'fixtures/pangolin/tubb8_grch37.gtf') });
  const cone = coneFigures(ours('coneCost', { adapter: 'pangolin', rule: 'pangolin', dists: [50] }).macs[50], s.variantsPerS, r?.variants_per_s);
  row(`score CLI pangolin (its rule, 12 networks), ${n} SNVs in TUBB8, dist 50`, s.variantsPerS, 'variants/s', r?.variants_per_s, {
    rss: s.peakRssMb,
    gflops: cone.gflops,
  });
  if (cone.ceiling) derivedRow(CEILING_LABEL, cone.ceiling);
}

if (want('server')) {
  // metaspliceai serve's engine: warm single-variant latency, then many clients at once.
  const out = execFileSync(
    process.execPath,
    [
      resolve(repo, 'scripts/bench/server.mjs'),
      JSON.stringify({
        modelsDir,
        fasta,
        threads,
        annotation: resolve(shared, 'fixtures/tubb8_grch37.tsv'),
        variants: Number(flag('server-variants', '200')),
        clients: 32,
      }),
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, ORT_DISABLE_TELEMETRY: '1' },
    },
  );
  const s = JSON.parse(out.trim().split('\n').pop());
  records.push(s);
  row(`serve spliceai 10000 x5: warm single variant, distance ${s.distanceSingle} (uncached)`, s.warmSingleMs, 'ms', undefined, {});
  row(`serve spliceai: ${s.variants} SNVs from ${s.clients} clients, dist ${s.distance}: p50 latency`, s.p50Ms, 'ms', undefined, {});
  row(`serve spliceai: ${s.variants} SNVs from ${s.clients} clients, dist ${s.distance}: p99 latency`, s.p99Ms, 'ms', undefined, {});
  row(`serve spliceai: ${s.variants} SNVs from ${s.clients} clients, dist ${s.distance}: throughput`, s.variantsPerS, 'variants/s', undefined, {
    rss: s.peakRssMb,
  });
  row(`serve spliceai: ${s.variants} SNVs from ${s.clients} clients: longest event-loop stall`, s.loopDelayMaxMs, 'ms', undefined, {});
}

if (want('load')) {
  for (const [adapter, set, backend] of [
    ['openspliceai', 'openspliceai-mane', 'onnx'],
    ['spliceai', 'spliceai', 'onnx'],
    ['spliceai', 'spliceai', 'tfjs'],
  ]) {
    const r = ours('load', { adapter, set, backend });
    row(`load ${adapter} 10000 x5 (${backend})`, r.seconds, 's', undefined, { rss: r.peakRssMb });
  }
}

if (want('discover')) {
  const r = ours('discover', {});
  row(`discover ${fmt(r.files)} files (${r.sets} sets)`, r.seconds, 's', undefined, { rss: r.peakRssMb });
}

if (args.includes('--json')) {
  for (const r of records) console.log(JSON.stringify(r));
} else {
  const header = { workload: 'workload', ours: 'ours', reference: 'reference (PyTorch)', ratio: 'ratio', gflops: 'GFLOP/s', peak: '% peak', rss: 'peak RSS' };
  const cols = Object.keys(header);
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[header, ...rows].map((r) => r[c].length))]));
  for (const r of [header, ...rows]) console.log(cols.map((c) => r[c].padEnd(width[c])).join('  '));
  console.log();
  console.log(
    `threads: ${threads}; machine peak ${peak ? `${fmt(peak, 1)} GFLOP/s: the faster of a 1536^3 fp32 MatMul (${fmt(peakRun.matmulGflopPerS, 1)}) and the network's widest layer, 8 chained 32->32 Convs of 41 taps on 2 x 40,000 positions (${fmt(peakRun.convGflopPerS, 1)}), on onnxruntime with the same threads` : 'not measured'}.`,
  );
  console.log(
    'GFLOP/s is the convolution work we actually perform (trimmed layers, the tile size used), so "% peak" says how close to the machine\'s limit we run.',
  );
  if (rows.some((r) => r.workload === CEILING_LABEL))
    console.log(
      "For SNVs it is the cones' work by the stage graphs' cost model (StagedNetwork.coneCost; the reference, predicted once per stretch of a gene, is not counted). \"At the machine's peak\" gives the rates that work would allow at 100% of the peak, with these cuts and in the minimal cone (the floor for exact recomputation), and their ratios to the reference.",
    );
  const refLines = records.filter((r) => r.workload === 'reference' && r.gflop_per_s);
  if (refLines.length)
    console.log(`The reference ran at ${refLines.map((r) => `${r.family} ${r.gflop_per_s} GFLOP/s`).join(', ')} (its own count, 5000-output windows).`);
  console.log('Ratios are ours / reference for rates and reference / ours for times, from this run on this machine.');
}
