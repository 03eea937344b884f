import { resolve } from 'node:path';
import { createModelManager, type LoadedModelSet } from '@metaspliceai/core';
import { createPangolinAdapter } from '@metaspliceai/adapter-pangolin';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MODELS_DIR, SHARED } from '../../../test-support/shared.js';
import { createLookupServer, LookupEngine, lookupModelFrom, openPangolinGenome, PangolinLookup } from '../src/index.js';
import { loadSpliceAI } from './helpers.js';

// Upstream pangolin.py's own output on the chr10 test genome (../shared/fixtures/pangolin/variant_cases.json).
const GTF = resolve(SHARED, 'fixtures', 'pangolin', 'tubb8_grch37.gtf');

let spliceai: LoadedModelSet;
let pangolinSet: LoadedModelSet;
let app: FastifyInstance;
let bare: FastifyInstance;
let lookup: PangolinLookup;

beforeAll(async () => {
  const s = await loadSpliceAI();
  spliceai = s.loaded;
  const manager = createModelManager({ modelsDir: MODELS_DIR }).register(createPangolinAdapter());
  pangolinSet = await manager.load({ adapter: 'pangolin', threads: 2 });
  lookup = new PangolinLookup({
    model: await lookupModelFrom(pangolinSet, 'acgt'),
    genomes: [await openPangolinGenome('37', s.genome.fasta, s.genome.fastaSha256, GTF)],
  });
  const engine = new LookupEngine({ model: s.model, genomes: [s.genome] });
  app = createLookupServer(engine, {}, { pangolin: lookup });
  bare = createLookupServer(engine);
});

afterAll(async () => {
  await app?.close();
  await bare?.close();
  await pangolinSet?.dispose();
  await spliceai?.dispose();
});

describe('/pangolin/', () => {
  test("upstream pangolin.py's numbers under SpliceAI-lookup's field names, masked and not", async () => {
    const cases = [
      { url: '/pangolin/?hg=37&variant=10-94853-C-G&distance=50&mask=0', want: ['0.38', -10, '-0.86', -1] },
      { url: '/pangolin/?hg=37&variant=chr10:94555 C>T&distance=50&mask=1', want: ['0.11', -23, '-0.69', 0] },
      { url: '/pangolin/?hg=37&variant=10-94853-CT-C&distance=50&mask=1', want: ['0.46', -10, '-0.88', -1] },
    ];
    const answers = await Promise.all(cases.map((c) => app.inject({ method: 'GET', url: encodeURI(c.url) })));
    answers.forEach((res, i) => {
      expect(res.statusCode, cases[i].url).toBe(200);
      const s = res.json().scores;
      expect(s).toHaveLength(1);
      expect([s[0].DS_SG, s[0].DP_SG, s[0].DS_SL, s[0].DP_SL], cases[i].url).toEqual(cases[i].want);
      expect(s[0]).toMatchObject({ g_id: 'TUBB8-gene', g_name: 'TUBB8', t_id: 'NM_177987', t_strand: '-', t_priority: 'C' });
      expect(res.json().source).toBe('pangolin:model');
    });
    expect(lookup.rounds).toBeLessThanOrEqual(2); // the two mask=1 queries share a round
  });

  test('bad input is a 400; a bare position is refused; /health lists the Pangolin set', async () => {
    const skip = await app.inject({ method: 'GET', url: '/pangolin/?hg=37&variant=10-94660-TG-CCA&distance=50' });
    expect(skip.statusCode).toBe(400);
    expect(skip.json().error).toMatch(/Variant format not supported/);
    const refOnly = await app.inject({ method: 'GET', url: '/pangolin/?hg=37&variant=10-94660' });
    expect(refOnly.statusCode).toBe(400);
    const health = (await app.inject({ method: 'GET', url: '/health' })).json();
    expect(health.tools).toEqual({ spliceai: true, pangolin: true });
    expect(health.pangolin.model.members).toHaveLength(24);
    expect(health.pangolin.model.license).toMatch(/GPL/);
    const off = await bare.inject({ method: 'GET', url: '/pangolin/?hg=37&variant=10-94853-C-G' });
    expect(off.statusCode).toBe(404);
    expect(off.json().error).toMatch(/pangolin is not loaded/);
  });
});
