import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type LoadedModelSet } from '@metaspliceai/core';
import { formatFixed, VariantScorer } from '@metaspliceai/genomics';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLookupServer, LookupEngine, type LookupGenome, type LookupModel, openLookupGenome } from '../src/index.js';
import { FASTA, loadOpenSpliceAI400, TUBB8 } from './helpers.js';

// The OpenSpliceAI MANE 400-nt set (5 members): the batching, cancellation and checks of the server
// under load at a fraction of a 10000-nt ensemble's cost (those figures: `pnpm bench --only server`).
// 200 distinct substitutions inside TUBB8 (hg19 chr10 test genome), every base but the reference one.
const FROM = 94_000;
const DISTANCE = 50;

let loaded: LoadedModelSet;
let model: LookupModel;
let genome: LookupGenome;
let app: FastifyInstance;
let engine: LookupEngine;
let base: string;
let variants: string[];

beforeAll(async () => {
  ({ loaded, model } = await loadOpenSpliceAI400());
  genome = await openLookupGenome('37', FASTA, TUBB8);
  engine = new LookupEngine({ model, genomes: [genome] });
  app = createLookupServer(engine);
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  const name = (await genome.fasta.resolveName('10'))!;
  const bases = (await genome.fasta.fetch(name, FROM - 1, FROM - 1 + 100)).toUpperCase();
  variants = [];
  for (let i = 0; variants.length < 200; i++) {
    const ref = bases[Math.floor(i / 2)];
    const alts = 'ACGT'.replace(ref, '');
    variants.push(`10-${FROM + Math.floor(i / 2)}-${ref}-${alts[i % 2]}`);
  }
  expect(new Set(variants).size).toBe(200);
  expect(readFileSync(FASTA, 'utf8').length).toBeGreaterThan(0);
});

afterAll(async () => {
  // The aborted fetches of the last test can leave sockets that would hold close() for a minute.
  app?.server.closeAllConnections();
  await app?.close();
  await loaded?.dispose();
});

describe('under load (loopback only)', () => {
  test('32 concurrent clients x 200 distinct variants: every request succeeds with the numbers of one scoreMany, in few model rounds', async () => {
    const queue = [...variants];
    const answers = new Map<string, { DS: string[]; DP: number[] }>();
    const failures: string[] = [];
    const latencies: number[] = [];
    const client = async () => {
      for (let v = queue.shift(); v !== undefined; v = queue.shift()) {
        const t0 = performance.now();
        const res = await fetch(`${base}/spliceai/?hg=37&variant=${v}&distance=${DISTANCE}&mask=0`, { signal: AbortSignal.timeout(120_000) });
        latencies.push(performance.now() - t0);
        const body = (await res.json()) as { scores?: Record<string, string | number>[]; error?: string };
        if (res.status !== 200 || !body.scores) {
          failures.push(`${v}: ${res.status} ${body.error}`);
          continue;
        }
        const s = body.scores[0];
        answers.set(v, { DS: ['AG', 'AL', 'DG', 'DL'].map((k) => s[`DS_${k}`] as string), DP: ['AG', 'AL', 'DG', 'DL'].map((k) => s[`DP_${k}`] as number) });
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 32 }, client));
    const seconds = (performance.now() - t0) / 1000;
    expect(failures).toEqual([]);
    expect(answers.size).toBe(200);
    // Requests were batched: far fewer model rounds than requests.
    expect(engine.rounds).toBeLessThan(100);

    // The right numbers: the same variants scored by one VariantScorer call, outside the server.
    const scorer = new VariantScorer({
      model: model.model,
      fasta: genome.fasta,
      annotation: { source: 'tubb8', rows: genome.annotation.rows },
      dist: DISTANCE,
      encoding: model.encoding,
    });
    // Every variant.
    const sample = variants;
    const direct = await scorer.scoreMany(
      sample.map((v) => {
        const [chrom, pos, ref, alt] = v.split('-');
        return { chrom, pos: Number(pos), ref, alts: [alt] };
      }),
    );
    direct.forEach((r, i) => {
      const d = r.entries[0].delta!;
      expect(answers.get(sample[i]), sample[i]).toEqual({ DS: d.scores.map((x) => formatFixed(x, 2)), DP: d.positions });
    });
    latencies.sort((a, b) => a - b);
    console.log(
      `load: 200 variants, 32 clients: ${seconds.toFixed(1)} s, ${(200 / seconds).toFixed(1)} variants/s, p50 ${latencies[100].toFixed(0)} ms, p99 ${latencies[197].toFixed(0)} ms, ${engine.rounds} model rounds`,
    );
  }, 600_000);

  test('while it scores, the server keeps answering: model calls are one window each, so the event loop is never held for long', async () => {
    const name = (await genome.fasta.resolveName('10'))!;
    const bases = (await genome.fasta.fetch(name, 94_199, 94_231)).toUpperCase();
    const batch = Array.from({ length: 32 }, (_, i) => `10-${94_200 + i}-${bases[i]}-${bases[i] === 'A' ? 'G' : 'A'}`);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const health: number[] = [];
    let done = false;
    const probe = (async () => {
      while (!done) {
        const t0 = performance.now();
        expect((await fetch(`${base}/health`)).status).toBe(200);
        health.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    // Distance 2000: enough work for several probes with the 400-nt set.
    const answers = await Promise.all(batch.map((v) => fetch(`${base}/spliceai/?hg=37&variant=${v}&distance=2000`)));
    done = true;
    await probe;
    delay.disable();
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(health.length).toBeGreaterThan(3);
    console.log(
      `responsiveness: event-loop delay max ${(delay.max / 1e6).toFixed(0)} ms, /health max ${Math.max(...health).toFixed(0)} ms over ${health.length} probes`,
    );
    // Generous bounds for a shared 2-core machine; a whole batch in one blocking call would take far longer.
    expect(delay.max / 1e6).toBeLessThan(3000);
    expect(Math.max(...health)).toBeLessThan(3000);
  }, 300_000);

  test('a client that disconnects cancels its queued work', async () => {
    // Keep the model busy with one long request, queue 8 more behind it, then drop those clients.
    // 30 positions (every ALT) at distance 4999: one round (a batch submits up to 32 variants at once).
    const busyVariants = Array.from({ length: 30 }, (_, i) => `10-${94_077 + 25 * i}`);
    const started = engine.rounds;
    const busy = fetch(`${base}/spliceai/batch?hg=37&distance=4999`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(busyVariants),
    });
    // Its round has begun (on a loaded machine that may take longer than a fixed wait).
    while (engine.rounds === started) await new Promise((r) => setTimeout(r, 10));
    const before = engine.rounds;
    const controllers = Array.from({ length: 8 }, () => new AbortController());
    const dropped = controllers.map((c, i) =>
      fetch(`${base}/spliceai/?hg=37&variant=10-${FROM + 150 + i}-A-C&distance=${DISTANCE + 1}`, { signal: c.signal }).catch((e: Error) => e.name),
    );
    await new Promise((r) => setTimeout(r, 300));
    for (const c of controllers) c.abort();
    expect(await Promise.all(dropped)).toEqual(Array(8).fill('AbortError'));
    expect((await busy).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    // The long request's round ran; the dropped ones never reached the model.
    expect(engine.rounds).toBe(before);
    const ok = await fetch(`${base}/spliceai/?hg=37&variant=10-94077-A-C&distance=500`);
    expect(ok.status).toBe(200);
    expect(engine.rounds).toBe(before + 1);
  });
});
