// One benchmark workload per process, so each reports its own peak memory. Prints one JSON line.
// Usage: node scripts/bench/workloads.mjs <workload> [options as JSON]
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.ORT_DISABLE_TELEMETRY ??= '1';
const root = new URL('../../', import.meta.url);
const pkg = (name) => import(new URL(`packages/${name}/dist/index.js`, root).href);
const core = await pkg('core');
const genomics = await pkg('genomics');
const { createSpliceAIAdapter } = await pkg('adapter-spliceai');
const { createOpenSpliceAIAdapter } = await pkg('adapter-openspliceai');

const [workload, json = '{}'] = process.argv.slice(2);
const opts = JSON.parse(json);
const modelsDir = opts.modelsDir;
const manager = () => core.createModelManager({ modelsDir }).register(createSpliceAIAdapter()).register(createOpenSpliceAIAdapter());

function report(fields) {
  const usage = process.resourceUsage();
  console.log(JSON.stringify({ workload, ...fields, peakRssMb: Math.round(usage.maxRSS / 1024) }));
}

async function chr10(start, nt) {
  const fa = await genomics.openFasta(opts.fasta);
  return fa.fetch('chr10', start - 1, start - 1 + nt);
}

const workloads = {
  /**
   * This machine's fp32 peak as onnxruntime reaches it: the faster of a 1536^3 MatMul and the
   * network's widest layer alone (a 32 -> 32 Conv of 41 taps, dilation 25, on 2 x 30,000 positions),
   * with the same threads and session settings as our models.
   */
  async peak() {
    const { encodeModel, floatTensor } = await pkg('onnx');
    const { createRequire } = await import('node:module');
    const ort = createRequire(new URL('packages/onnx/package.json', root))('onnxruntime-node');
    const settings = {
      intraOpNumThreads: opts.threads ?? 2,
      interOpNumThreads: 1,
      enableCpuMemArena: false,
      logSeverityLevel: 3,
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    };
    // `chain` ops in a row, so that converting the input to and from the runtime's blocked layout
    // (once per run) does not count against the op.
    const measure = async (node, initializer, input, output, flop, chain = 1) => {
      const nodes = Array.from({ length: chain }, (_, i) => ({
        name: `op${i}`,
        inputs: [i === 0 ? 'a' : `v${i}`, 'b'],
        outputs: [i === chain - 1 ? 'c' : `v${i + 1}`],
        ...node,
      }));
      const bytes = encodeModel({
        irVersion: 8,
        opsetVersion: 17,
        producerName: 'bench',
        producerVersion: '0',
        metadata: {},
        graph: {
          name: 'peak',
          nodes,
          initializers: [initializer],
          inputs: [{ name: 'a', elemType: 1, shape: input.dims }],
          outputs: [{ name: 'c', elemType: 1, shape: output }],
        },
      });
      const session = await ort.InferenceSession.create(bytes, settings);
      const a = new ort.Tensor('float32', new Float32Array(input.dims.reduce((x, y) => x * y)).fill(0.25), input.dims);
      await session.run({ a });
      let best = 0; // the best of 3 rounds: a peak, not an average
      for (let round = 0; round < 3; round++) {
        const started = performance.now();
        for (let i = 0; i < 4; i++) await session.run({ a });
        best = Math.max(best, (flop * 4) / ((performance.now() - started) / 1000) / 1e9);
      }
      return best * chain;
    };
    const n = 1536;
    const matmul = await measure({ opType: 'MatMul' }, floatTensor('b', [n, n], new Float32Array(n * n).fill(0.5)), { dims: [n, n] }, [n, n], 2 * n ** 3);
    const [c, k, d, out] = [32, 41, 25, 40_000];
    const pad = (d * (k - 1)) / 2;
    const conv = await measure(
      {
        opType: 'Conv',
        attributes: [
          { name: 'kernel_shape', kind: 'ints', value: [1, k] },
          { name: 'dilations', kind: 'ints', value: [1, d] },
          { name: 'pads', kind: 'ints', value: [0, pad, 0, pad] },
        ],
      },
      floatTensor('b', [c, c, 1, k], new Float32Array(c * c * k).fill(0.01)),
      { dims: [2, c, 1, out] },
      [2, c, 1, out],
      2 * 2 * c * c * k * out,
      8,
    );
    report({ gflopPerS: Math.max(matmul, conv), matmulGflopPerS: matmul, convGflopPerS: conv });
  },

  /** Sequence windows through the library: the reference windowing or our tiles. */
  async windows() {
    const m = manager();
    const loaded = await m.load({ adapter: opts.adapter, setName: opts.set, context: 10000, backend: opts.backend });
    const codes = core.encodeSequence(await chr10(opts.start ?? 5001, opts.nt));
    const tiling = { tileSize: opts.tileSize, batchSize: opts.batchSize };
    await core.predictCodes(loaded.model, codes.subarray(0, Math.min(codes.length, opts.tileSize ?? 5000)), tiling); // warm-up
    const started = performance.now();
    await core.predictCodes(loaded.model, codes, tiling);
    const seconds = (performance.now() - started) / 1000;
    const windows = Math.ceil(codes.length / (opts.tileSize ?? 5000));
    report({
      adapter: opts.adapter,
      backend: loaded.model.backend,
      nt: codes.length,
      seconds,
      ntPerS: codes.length / seconds,
      msPerTilePerModel: (seconds * 1000) / windows / loaded.set.members.length,
      tileSize: opts.tileSize,
      batchSize: opts.batchSize,
    });
    await loaded.dispose();
  },

  /** `metaspliceai predict` end to end on a FASTA of opts.nt bases (chr10 repeated), written to a file. */
  async predictCli() {
    const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-bench-'));
    const region = (await chr10(1, 110_000)).replace(/N/gi, '').toUpperCase();
    let sequence = '';
    while (sequence.length < opts.nt) sequence += region;
    sequence = sequence.slice(0, opts.nt);
    const fastaFile = join(dir, 'input.fa');
    // opts.records: that many records of opts.nt / records nt each (short inputs packed into shared tiles).
    const records = opts.records ?? 1;
    const size = Math.floor(opts.nt / records);
    const body = Array.from({ length: records }, (_, i) => `>bench${i}\n${sequence.slice(i * size, (i + 1) * size).replace(/(.{60})/g, '$1\n')}\n`).join('');
    await fs.writeFile(fastaFile, records === 1 ? `>bench\n${sequence.replace(/(.{60})/g, '$1\n')}\n` : body);
    const out = join(dir, 'out.tsv');
    const { runCli } = await import(new URL('packages/cli/dist/index.js', root).href);
    const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd(), env: process.env, stderrIsTTY: false };
    const started = performance.now();
    const code = await runCli(
      [
        'predict',
        '--model',
        opts.adapter,
        '--set',
        opts.set,
        '--context',
        '10000',
        '--fasta',
        fastaFile,
        '--format',
        opts.format ?? 'tsv',
        '--output',
        out,
        '--models-dir',
        modelsDir,
        '--quiet',
        ...(opts.extra ?? []),
      ],
      io,
    );
    const seconds = (performance.now() - started) / 1000;
    const bytes = (await fs.stat(out)).size;
    await fs.rm(dir, { recursive: true, force: true });
    report({ adapter: opts.adapter, nt: records * size, records, exitCode: code, seconds, ntPerS: (records * size) / seconds, outputMb: bytes / 1e6 });
  },

  /**
   * `metaspliceai score` on a VCF of opts.variants variants spread over TUBB8: opts.kind `snv`
   * (default), `deletion` (1 nt) or `insertion` (1 nt), at distance opts.dist (default 50).
   * opts.set picks a 10000-context set; without it the family's default (Pangolin).
   */
  async scoreCli() {
    const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-bench-'));
    const fa = await genomics.openFasta(opts.fasta);
    const kind = opts.kind ?? 'snv';
    const lines = ['##fileformat=VCFv4.2', '##contig=<ID=10>', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO'];
    // TUBB8 spans 92893..95529 (1-based): one SNV every few bases, the REF read from the genome.
    const span = [92_900, 95_500];
    const step = Math.max(1, Math.floor((span[1] - span[0]) / opts.variants));
    for (let i = 0; i < opts.variants; i++) {
      const pos = span[0] + i * step;
      const bases = (await fa.fetch('chr10', pos - 1, pos + 1)).toUpperCase();
      const [ref, alt] = kind === 'deletion' ? [bases, bases[0]] : kind === 'insertion' ? [bases[0], `${bases[0]}A`] : [bases[0], bases[0] === 'A' ? 'C' : 'A'];
      lines.push(`10\t${pos}\t.\t${ref}\t${alt}\t.\t.\t.`);
    }
    const vcf = join(dir, 'in.vcf');
    await fs.writeFile(vcf, `${lines.join('\n')}\n`);
    const out = join(dir, 'out.vcf');
    const { runCli } = await import(new URL('packages/cli/dist/index.js', root).href);
    const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd(), env: process.env, stderrIsTTY: false };
    const started = performance.now();
    const model = ['--model', opts.adapter, ...(opts.set ? ['--set', opts.set, '--context', '10000'] : [])];
    const code = await runCli(
      [
        'score',
        '-I',
        vcf,
        '-O',
        out,
        '-R',
        opts.fasta,
        '-A',
        opts.annotation,
        '-D',
        String(opts.dist ?? 50),
        ...model,
        '--models-dir',
        modelsDir,
        '--quiet',
        ...(opts.extra ?? []),
      ],
      io,
    );
    const seconds = (performance.now() - started) / 1000;
    const scored = (await fs.readFile(out, 'utf8')).split('\n').filter((l) => /\t[^\t]*(SpliceAI|Pangolin)=/.test(l)).length;
    await fs.rm(dir, { recursive: true, force: true });
    report({
      adapter: opts.adapter,
      kind,
      dist: opts.dist ?? 50,
      variants: opts.variants,
      scored,
      exitCode: code,
      seconds,
      variantsPerS: opts.variants / seconds,
    });
  },

  /**
   * What rescoring one base change costs in the stage graphs `score` runs (multiply-adds by the
   * cuts' cost model, and in the minimal cone), at each of `dists`; `rule` loads only its tracks.
   */
  async coneCost() {
    const { createPangolinAdapter } = await pkg('adapter-pangolin');
    const tracks = opts.rule ? genomics.scoringRule(opts.rule).tracks : undefined;
    const context = opts.set ? 10000 : undefined;
    const loaded = await manager().register(createPangolinAdapter()).load({ adapter: opts.adapter, setName: opts.set, context, threads: opts.threads, tracks });
    const stages = loaded.model.stages;
    report({ adapter: opts.adapter, macs: Object.fromEntries(opts.dists.map((d) => [d, stages?.coneCost?.(d)])) });
    await loaded.dispose();
  },

  /** Loading a 5-model set, cold (new manager, files read and sessions created). */
  async load() {
    const started = performance.now();
    const m = manager();
    const loaded = await m.load({ adapter: opts.adapter, setName: opts.set, context: 10000, backend: opts.backend });
    const seconds = (performance.now() - started) / 1000;
    report({ adapter: opts.adapter, backend: loaded.model.backend, seconds });
    await loaded.dispose();
  },

  /** Discovery over a tree of 10,000 unrelated files plus the real models (symlinked). */
  async discover() {
    const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-bench-'));
    for (let d = 0; d < 100; d++) {
      await fs.mkdir(join(dir, 'junk', String(d)), { recursive: true });
      await Promise.all(Array.from({ length: 100 }, (_, i) => fs.writeFile(join(dir, 'junk', String(d), `f${i}.txt`), '')));
    }
    await fs.symlink(modelsDir, join(dir, 'models'));
    const m = core.createModelManager({ modelsDir: dir }).register(createSpliceAIAdapter()).register(createOpenSpliceAIAdapter());
    const started = performance.now();
    const found = await m.discover();
    const seconds = (performance.now() - started) / 1000;
    report({ files: found.filesScanned, sets: found.modelSets.length, seconds });
    await fs.rm(dir, { recursive: true, force: true });
  },
};

if (!workloads[workload]) {
  console.error(`unknown workload ${workload}; one of ${Object.keys(workloads).join(', ')}`);
  process.exit(2);
}
await workloads[workload]();
