import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LoadedModelSet } from '@metaspliceai/core';
import { formatFixed, VariantScorer } from '@metaspliceai/genomics';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLookupServer, LookupEngine, type LookupGenome, type LookupModel, openLookupGenome, ScoreCache } from '../src/index.js';
import { FASTA, loadSpliceAI } from './helpers.js';

// SpliceAI's own test values for 10-94077-A-C on TUBB8 (hg19), D=500: C|TUBB8|0.15|0.27|0.00|0.05|89|-23|-267|193.
const TUBB8 = '/spliceai/?hg=37&variant=10-94077-A-C&distance=500&mask=0';

let loaded: LoadedModelSet;
let model: LookupModel;
let genome: LookupGenome;
let dir: string;
let cache: ScoreCache;
let engine: LookupEngine;
let app: FastifyInstance;

beforeAll(async () => {
  ({ loaded, model, genome } = await loadSpliceAI());
  dir = mkdtempSync(join(tmpdir(), 'msa-server-'));
  cache = new ScoreCache(join(dir, 'cache'));
  engine = new LookupEngine({ model, genomes: [genome], cache });
  app = createLookupServer(engine);
});

afterAll(async () => {
  await app?.close();
  cache?.close();
  await loaded?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('GET /spliceai/ on real data', () => {
  test('TUBB8 10-94077-A-C, distance 500: SpliceAI test values, SpliceAI-lookup field names', async () => {
    const res = await app.inject({ method: 'GET', url: TUBB8 });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      variant: '10-94077-A-C',
      genomeVersion: '37',
      chrom: '10',
      pos: 94077,
      ref: 'A',
      alt: 'C',
      distance: 500,
      mask: 0,
      source: 'spliceai:model',
    });
    expect(body.scores).toHaveLength(1);
    const s = body.scores[0];
    expect([s.DS_AG, s.DS_AL, s.DS_DG, s.DS_DL]).toEqual(['0.15', '0.27', '0.00', '0.05']);
    expect([s.DP_AG, s.DP_AL, s.DP_DG, s.DP_DL]).toEqual([89, -23, -267, 193]);
    expect(s).toMatchObject({ g_name: 'TUBB8', t_strand: '-', t_priority: 'N' });
    // REF and ALT probabilities: each delta is ALT - REF (gain) or REF - ALT (loss), to rounding.
    const n = (x: string) => Number(x);
    expect(Math.abs(n(s.DS_AG_ALT) - n(s.DS_AG_REF) - 0.15)).toBeLessThanOrEqual(0.011);
    expect(Math.abs(n(s.DS_AL_REF) - n(s.DS_AL_ALT) - 0.27)).toBeLessThanOrEqual(0.011);
    expect(Math.abs(n(s.DS_DL_REF) - n(s.DS_DL_ALT) - 0.05)).toBeLessThanOrEqual(0.011);
    // The rows for the page: the variant's own position and the four delta positions are there.
    const positions = new Set(body.allNonZeroScores.map((r: { pos: number }) => r.pos));
    for (const d of [0, 89, -23, -267, 193]) expect(positions.has(94077 + d)).toBe(true);
    const atGain = body.allNonZeroScores.find((r: { pos: number }) => r.pos === 94077 + 89);
    expect([atGain.RA, atGain.AA]).toEqual([s.DS_AG_REF, s.DS_AG_ALT]);
    expect(body.allNonZeroScoresStrand).toBe('-');
    expect(s.EXON_STARTS).toEqual([92893, 94555, 94744, 95122]);
  });

  test('the second ask comes from the cache, with the same numbers; a fresh engine on the same folder reads it back', async () => {
    const first = (await app.inject({ method: 'GET', url: TUBB8 })).json();
    expect(first.source).toBe('spliceai:cache');
    const rounds = engine.rounds;
    const again = createLookupServer(new LookupEngine({ model, genomes: [genome], cache: new ScoreCache(join(dir, 'cache')) }));
    const second = (
      await again.inject({ method: 'POST', url: '/spliceai/', payload: { hg: '37', variant: 'chr10:94077 A>C', distance: 500, mask: 0 } })
    ).json();
    await again.close();
    expect(second.source).toBe('spliceai:cache');
    expect(second.variant).toBe('chr10:94077 A>C');
    expect(second.scores).toEqual(first.scores);
    expect(engine.rounds).toBe(rounds);
  });

  test('a bare chrom-pos gives the reference scores', async () => {
    const res = await app.inject({ method: 'GET', url: '/spliceai/?hg=37&variant=chr10-94077&distance=100' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.ref).toBeNull();
    const s = body.scores[0];
    expect(s).toMatchObject({ g_name: 'TUBB8' });
    expect(Number(s.RA_MAX)).toBeGreaterThan(0);
    expect(Math.abs(s.RA_MAX_POS)).toBeLessThanOrEqual(100);
    // The acceptor that loses 0.27 at -23 with the ALT is a reference acceptor there.
    const at = body.allNonZeroScores.find((r: { pos: number }) => r.pos === 94077 - 23);
    expect(Number(at.RA)).toBeGreaterThanOrEqual(0.27);
  });

  test('distance 10000, as SpliceAI-lookup allows: the window reaches 10 kb, and the maxima only grow', async () => {
    const near = (await app.inject({ method: 'GET', url: TUBB8 })).json().scores[0];
    const res = await app.inject({ method: 'GET', url: '/spliceai/?hg=37&variant=10-94077-A-C&distance=10000&mask=0' });
    expect(res.statusCode).toBe(200);
    const far = res.json();
    expect(far.distance).toBe(10000);
    const s = far.scores[0];
    for (const key of ['DS_AG', 'DS_AL', 'DS_DG', 'DS_DL']) expect(Number(s[key]), key).toBeGreaterThanOrEqual(Number(near[key]));
    for (const key of ['DP_AG', 'DP_AL', 'DP_DG', 'DP_DL']) expect(Math.abs(s[key]), key).toBeLessThanOrEqual(10000);
  });

  test('bad input is a 400 with {"error"}, never a stack', async () => {
    const cases = [
      '/spliceai/?hg=37&variant=banana',
      '/spliceai/?variant=10-94077-A-C',
      '/spliceai/?hg=36&variant=10-94077-A-C',
      '/spliceai/?hg=37&variant=10-94077-A-C&distance=-1',
      '/spliceai/?hg=37&variant=10-94077-A-C&distance=10001',
      '/spliceai/?hg=37&variant=10-94077-A-C&mask=2',
      '/spliceai/?hg=37&variant=10-94077-G-C', // REF mismatch
      '/spliceai/?hg=37&variant=10-50000-A-C', // outside genes
      '/spliceai/?hg=37&variant=10-94077-AC-GT',
    ];
    for (const url of cases) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      const body = res.json();
      expect(typeof body.error, url).toBe('string');
      expect(body.error, url).not.toMatch(/\n\s+at /);
    }
    const mismatch = (await app.inject({ method: 'GET', url: '/spliceai/?hg=37&variant=10-94077-G-C' })).json();
    expect(mismatch.error).toMatch(/REF G does not match/);
  });

  test('/pangolin/ says it is not loaded; /health lists model, genome and checksums', async () => {
    const p = await app.inject({ method: 'GET', url: '/pangolin/?hg=37&variant=10-94077-A-C' });
    expect(p.statusCode).toBe(404);
    expect(p.json().error).toMatch(/pangolin is not loaded/);
    const h = (await app.inject({ method: 'GET', url: '/health' })).json();
    expect(h.model).toMatchObject({ adapter: 'spliceai', context: 10000 });
    expect(h.model.members).toHaveLength(5);
    for (const m of h.model.members) expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(h.model.license).toMatch(/CC BY-NC/);
    expect(h.genomes[0]).toMatchObject({ hg: '37', transcripts: 1 });
    expect(h.genomes[0].fastaSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(h.genomes[0].annotationSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test('batch: a JSON list and a VCF body stream NDJSON in order, bad items as errors', async () => {
    const res = await app.inject({ method: 'POST', url: '/spliceai/batch?hg=37&distance=500', payload: ['10-94077-A-C', 'nonsense', '10-94077-A-G'] });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/ndjson/);
    const lines = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0].scores[0].DS_AL).toBe('0.27');
    expect(lines[1].error).toMatch(/Unable to parse/);
    expect(lines[2].alt).toBe('G');
    const vcf = '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n10\t94077\t.\tA\tC,G\t.\t.\t.\n';
    const v = await app.inject({ method: 'POST', url: '/spliceai/batch?hg=37&distance=500', headers: { 'content-type': 'text/plain' }, payload: vcf });
    const vl = v.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(vl.map((l) => l.alt)).toEqual(['C', 'G']);
    expect(vl[0].scores).toEqual(lines[0].scores);
    const tooMany = await app.inject({ method: 'POST', url: '/spliceai/batch?hg=37', payload: Array.from({ length: 1001 }, () => '10-94077-A-C') });
    expect(tooMany.statusCode).toBe(400);
    const tooBig = await app.inject({
      method: 'POST',
      url: '/spliceai/batch?hg=37',
      headers: { 'content-type': 'text/plain' },
      payload: '10-94077-A-C\n'.repeat(100_000),
    });
    expect(tooBig.statusCode).toBe(413);
    expect(typeof tooBig.json().error).toBe('string');
  });
});

describe('per transcript, from a GTF with tags', () => {
  test("each transcript is scored on its own bounds; t_id, g_id, t_type and t_priority come from the GTF; the top transcript's rows are returned", async () => {
    const gtf = join(dir, 'two.gtf');
    const exon = (tx: string, s: number, e: number, tags: string) =>
      `chr10\tT\texon\t${s}\t${e}\t.\t-\t.\tgene_id "TUBB8-gene"; transcript_id "${tx}"; gene_type "protein_coding"; gene_name "TUBB8"; transcript_type "${tx === 'NM_177987' ? 'protein_coding' : 'retained_intron'}"; ${tags}\n`;
    const mane = 'tag "MANE_Select"; tag "Ensembl_canonical";';
    writeFileSync(
      gtf,
      [
        exon('NM_177987', 92893, 94054, mane),
        exon('NM_177987', 94555, 94665, mane),
        exon('NM_177987', 94744, 94852, mane),
        exon('NM_177987', 95122, 95529, mane),
        exon('SHORT-1', 93600, 94054, 'tag "basic";'),
        exon('SHORT-1', 94555, 94700, 'tag "basic";'),
      ].join(''),
    );
    const two = await openLookupGenome('37', FASTA, gtf);
    expect(two.annotation.rows.map((r) => r.transcriptId)).toEqual(['NM_177987', 'SHORT-1']);
    const server = createLookupServer(new LookupEngine({ model, genomes: [two] }));
    const body = (await server.inject({ method: 'GET', url: TUBB8 })).json();
    await server.close();
    expect(body.scores.map((s: Record<string, string>) => [s.t_id, s.g_id, s.t_type, s.t_priority, s.g_name])).toEqual([
      ['NM_177987', 'TUBB8-gene', 'protein_coding', 'MS', 'TUBB8'],
      ['SHORT-1', 'TUBB8-gene', 'retained_intron', 'N', 'TUBB8'],
    ]);
    // The MANE transcript has TUBB8's bounds: SpliceAI's own numbers.
    expect(['AG', 'AL', 'DG', 'DL'].map((k) => body.scores[0][`DS_${k}`])).toEqual(['0.15', '0.27', '0.00', '0.05']);
    // The short one is N-padded beyond its own ends: its numbers are those of a table holding only it.
    const alone = new VariantScorer({ model: model.model, fasta: two.fasta, annotation: { source: 'short', rows: [two.annotation.rows[1]] }, dist: 500 });
    const [direct] = await alone.scoreMany([{ chrom: '10', pos: 94077, ref: 'A', alts: ['C'] }]);
    const d = direct.entries[0].delta!;
    expect(['AG', 'AL', 'DG', 'DL'].map((k) => body.scores[1][`DS_${k}`])).toEqual(d.scores.map((x) => formatFixed(x, 2)));
    expect(['AG', 'AL', 'DG', 'DL'].map((k) => body.scores[1][`DP_${k}`])).toEqual(d.positions);
    expect(body.allNonZeroScoresTranscriptId).toBe('NM_177987');
  });
});
