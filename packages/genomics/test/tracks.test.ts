import { promises as fs } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createModelManager, type LoadedModel, type OutputTrack } from '@metaspliceai/core';
import {
  createPredictionWriter,
  type PredictionEvent,
  type PredictionFormat,
  SequenceInference,
  type SequenceInput,
  writePredictions,
} from '@metaspliceai/genomics';
import { createMockAdapter, mockModel } from '@metaspliceai/core/testing';
import { makeTree, mock } from '../../../test-support/tree.js';

/** Tracks shaped like a tissue model: a site probability and a usage per tissue. */
const TISSUE_TRACKS: readonly OutputTrack[] = [
  { name: 'p_splice_heart', kind: 'site-probability', site: 'any', tissue: 'heart' },
  { name: 'usage_heart', kind: 'usage', site: 'any', tissue: 'heart' },
  { name: 'p_splice_liver', kind: 'site-probability', site: 'any', tissue: 'liver' },
];

const region: SequenceInput = {
  name: 'chr1:101-103',
  strand: '+',
  length: 3,
  locus: { chrom: 'chr1', start: 101, end: 103 },
  read: (from, to) => new Uint8Array(to - from),
};

const ROWS = [
  [0.9, 0.5, 0.1],
  [0.2, 0.25, 0.8],
  [0, 0, 0],
];

function events(rows: number[][], chunk = 2): PredictionEvent[] {
  const out: PredictionEvent[] = [{ type: 'begin', sequence: region }];
  for (let offset = 0; offset < rows.length; offset += chunk) {
    const part = rows.slice(offset, offset + chunk);
    out.push({ type: 'rows', sequence: region, offset, length: part.length, probabilities: Float32Array.from(part.flat()) });
  }
  out.push({ type: 'end', sequence: region });
  return out;
}

async function render(format: PredictionFormat, tracks: readonly OutputTrack[], rows: number[][], options = {}): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writePredictions(
    (async function* () {
      yield* events(rows);
    })(),
    createPredictionWriter(format, out, { ...options, tracks }),
  );
  return Buffer.concat(chunks).toString();
}

describe('writers take any number of tracks', () => {
  it('tsv: one column per track, named by track', async () => {
    const text = await render('tsv', TISSUE_TRACKS, ROWS);
    expect(text.split('\n')).toEqual([
      'name\tposition\tp_splice_heart\tusage_heart\tp_splice_liver',
      'chr1:101-103\t101\t0.9\t0.5\t0.1',
      'chr1:101-103\t102\t0.2\t0.25\t0.8',
      'chr1:101-103\t103\t0\t0\t0',
      '',
    ]);
  });

  it('json: one array per track, in track order', async () => {
    const obj = JSON.parse(await render('json', TISSUE_TRACKS, ROWS));
    expect(Object.keys(obj)).toEqual(['name', 'strand', 'length', 'chrom', 'start', 'end', 'p_splice_heart', 'usage_heart', 'p_splice_liver']);
    expect(obj.usage_heart).toEqual([0.5, 0.25, 0]);
    expect(obj.p_splice_liver).toEqual([0.1, 0.8, 0]);
  });

  it('bedgraph: one track per track, usage described as usage', async () => {
    const text = await render('bedgraph', TISSUE_TRACKS, ROWS, { trackName: 'm' });
    const tracks = text.split('\n').filter((l) => l.startsWith('track'));
    expect(tracks.map((l) => /name="([^"]+)"/.exec(l)![1])).toEqual(['m p_splice_heart', 'm usage_heart', 'm p_splice_liver']);
    expect(tracks[1]).toContain('description="m usage_heart usage (MetaSpliceAI)"');
    expect(text).toContain(
      'track type=bedGraph name="m usage_heart" description="m usage_heart usage (MetaSpliceAI)" visibility=full autoScale=off viewLimits=0:1\nchr1\t100\t101\t0.5000\nchr1\t101\t102\t0.2500\n',
    );
  });

  it('bed: site-probability tracks of any site mark the base itself; usage tracks are not sites', async () => {
    const text = await render('bed', TISSUE_TRACKS, ROWS);
    expect(text).toBe(['chr1\t100\t101\tchr1:101-103_p_splice_heart\t0.900000\t+', 'chr1\t101\t102\tchr1:101-103_p_splice_liver\t0.800000\t+', ''].join('\n'));
  });

  it('bed: refuses a model without site tracks, naming its tracks', () => {
    expect(() => createPredictionWriter('bed', new PassThrough(), { tracks: [{ name: 'usage_heart', kind: 'usage' }] })).toThrow(
      /BED needs a site track.*usage_heart/,
    );
  });
});

describe('inference with N tracks', () => {
  /** The mock model's acceptor and donor as two site-probability tracks, plus their sum as a usage. */
  function twoTissueModel(): LoadedModel {
    const base = mockModel(8);
    return {
      ...base,
      tracks: [
        { name: 'p_a', kind: 'site-probability', site: 'any' },
        { name: 'p_b', kind: 'site-probability', site: 'any' },
        { name: 'u', kind: 'usage' },
        { name: 'v', kind: 'usage' },
      ],
      async predict(batch) {
        const rows = await base.predict(batch);
        const out = new Float32Array((rows.length / 3) * 4);
        for (let p = 0; p < rows.length / 3; p++) out.set([rows[p * 3 + 1], rows[p * 3 + 2], rows[p * 3 + 1] + rows[p * 3 + 2], rows[p * 3]], p * 4);
        return out;
      },
    };
  }

  it('predictSequence returns (length, tracks) rows and the tracks, for any tile size', async () => {
    const model = twoTissueModel();
    const seq = 'ACGTAAGGCATGCATTTAGGACAGT'.repeat(9);
    const whole = await new SequenceInference({ models: model, tileSize: 1000 }).predictSequence(seq);
    const tiled = await new SequenceInference({ models: model, tileSize: 7, batchSize: 3 }).predictSequence(seq);
    expect(whole.tracks.map((t) => t.name)).toEqual(['p_a', 'p_b', 'u', 'v']);
    expect(whole.probabilities.length).toBe(seq.length * 4);
    expect(Array.from(tiled.probabilities)).toEqual(Array.from(whole.probabilities));
    const reference = await new SequenceInference({ models: mockModel(8), tileSize: 1000 }).predictSequence(seq);
    for (let p = 0; p < seq.length; p++) {
      expect(whole.probabilities[p * 4]).toBe(reference.probabilities[p * 3 + 1]);
      expect(whole.probabilities[p * 4 + 3]).toBe(reference.probabilities[p * 3]);
    }
  });

  it('a model that returns other than its tracks say is a typed error naming them', async () => {
    const model = { ...twoTissueModel(), tracks: [{ name: 'only', kind: 'usage' as const }] };
    await expect(new SequenceInference({ models: model }).predictSequence('ACGTACGT')).rejects.toThrow(/positions x 1 tracks \(only\)/);
  });
});

describe('golden outputs and health with N tracks', () => {
  it('records the tracks with the golden rows, and checks shape, range and golden by track', async () => {
    const root = await makeTree({ 'alpha/a_8.mock': mock(8) });
    const adapter = createMockAdapter({
      async load({ context }) {
        const base = mockModel(context);
        return {
          ...base,
          tracks: [
            { name: 'p_site', kind: 'site-probability', site: 'any' },
            { name: 'usage', kind: 'usage' },
          ],
          async predict(batch) {
            const rows = await base.predict(batch);
            const out = new Float32Array((rows.length / 3) * 2);
            for (let p = 0; p < rows.length / 3; p++) out.set([rows[p * 3 + 1], rows[p * 3 + 2]], p * 2);
            return out;
          },
        };
      },
    });
    const manager = createModelManager({ modelsDir: root }).register(adapter);
    const [written] = await manager.index({ golden: true });
    expect(written.info.golden!.tracks).toEqual(['p_site', 'usage']);
    expect(written.info.golden!.outputs[0]).toHaveLength(2);
    const health = await manager.health({ adapter: 'mock' });
    // No 'normalised' check: no class probabilities to sum.
    expect(health.checks.map((c) => [c.name, c.ok])).toEqual([
      ['load', true],
      ['shape', true],
      ['range', true],
      ['golden', true],
    ]);
    expect(health.checks[1].message).toMatch(/x 2 tracks/);
    // A golden of other tracks (a file from before v2 has none: neither, acceptor, donor) fails, saying why.
    const info = JSON.parse(await fs.readFile(written.path, 'utf8'));
    delete info.golden.tracks;
    await fs.writeFile(written.path, JSON.stringify(info));
    const stale = await createModelManager({ modelsDir: root }).register(adapter).health({ adapter: 'mock' });
    expect(stale.checks.find((c) => c.name === 'golden')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/of the tracks neither, acceptor, donor; the model has p_site, usage/),
    });
  });
});
