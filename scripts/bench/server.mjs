// The lookup server under load, in its own process (its own peak memory). Prints one JSON line.
// Usage: node scripts/bench/server.mjs '{"modelsDir": ..., "fasta": ..., "annotation": ..., "threads": 2, "variants": 200, "clients": 32}'
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { resolve } from 'node:path';

process.env.ORT_DISABLE_TELEMETRY ??= '1';
const root = new URL('../../', import.meta.url);
const pkg = (name) => import(new URL(`packages/${name}/dist/index.js`, root).href);
const core = await pkg('core');
const server = await pkg('server');
const { createSpliceAIAdapter } = await pkg('adapter-spliceai');

const opts = JSON.parse(process.argv[2] ?? '{}');
const n = opts.variants ?? 200;
const clients = opts.clients ?? 32;
const distance = opts.distance ?? 50;
const manager = core.createModelManager({ modelsDir: opts.modelsDir }).register(createSpliceAIAdapter());
const loaded = await manager.load({ adapter: 'spliceai', backend: 'onnx', threads: opts.threads });
const genome = await server.openLookupGenome('37', resolve(opts.fasta), resolve(opts.annotation));
const engine = new server.LookupEngine({ model: await server.lookupModelFrom(loaded, 'spliceai'), genomes: [genome] });
const app = server.createLookupServer(engine);
const base = await app.listen({ port: 0, host: '127.0.0.1' });

// Distinct SNVs in TUBB8 (94000..), every non-reference base.
const name = await genome.fasta.resolveName('10');
const bases = (await genome.fasta.fetch(name, 93_999, 93_999 + n)).toUpperCase();
const variants = Array.from({ length: n }, (_, i) => {
  const ref = bases[Math.floor(i / 3)];
  return `10-${94_000 + Math.floor(i / 3)}-${ref}-${'ACGT'.replace(ref, '')[i % 3]}`;
});
const ask = async (variant, d = distance) => {
  const t0 = performance.now();
  const res = await fetch(`${base}/spliceai/?hg=37&variant=${variant}&distance=${d}&mask=0`);
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${variant}: ${res.status} ${body.error}`);
  return performance.now() - t0;
};

// Warm single-variant latency: the model loaded and run once; each measured variant is new (no cache).
await ask('10-94077-A-C', 500);
const single = [];
for (let pos = 94_300; pos < 94_303; pos++) {
  const ref = (await genome.fasta.fetch(name, pos - 1, pos)).toUpperCase();
  single.push(await ask(`10-${pos}-${ref}-${ref === 'A' ? 'G' : 'A'}`, 500));
}
single.sort((a, b) => a - b);

const queue = [...variants];
const latencies = [];
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const t0 = performance.now();
await Promise.all(
  Array.from({ length: clients }, async () => {
    for (let v = queue.shift(); v !== undefined; v = queue.shift()) latencies.push(await ask(v));
  }),
);
const seconds = (performance.now() - t0) / 1000;
delay.disable();
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
await app.close();
await loaded.dispose();
const usage = process.resourceUsage();
console.log(
  JSON.stringify({
    workload: 'server',
    warmSingleMs: single[1],
    distanceSingle: 500,
    variants: n,
    clients,
    distance,
    seconds,
    variantsPerS: n / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    rounds: engine.rounds,
    loopDelayMaxMs: delay.max / 1e6,
    peakRssMb: Math.round(usage.maxRSS / 1024),
  }),
);
