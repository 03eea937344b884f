import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  createPredictionWriter,
  type PredictionEvent,
  type PredictionFormat,
  type PredictionWriterOptions,
  type SequenceInput,
  sequenceInput,
  writePredictions,
} from '@metaspliceai/genomics';
import { formatProbability } from '../src/io/prediction-writers.js';

/** A query with given rows [neither, acceptor, donor], split into chunks of `chunk` rows. */
function eventsFor(input: SequenceInput, rows: [number, number, number][], chunk = 2): PredictionEvent[] {
  const events: PredictionEvent[] = [{ type: 'begin', sequence: input }];
  for (let offset = 0; offset < rows.length; offset += chunk) {
    const part = rows.slice(offset, offset + chunk);
    events.push({ type: 'rows', sequence: input, offset, length: part.length, probabilities: Float32Array.from(part.flat()) });
  }
  events.push({ type: 'end', sequence: input });
  return events;
}

async function render(format: PredictionFormat, events: PredictionEvent[], options: PredictionWriterOptions = {}): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  async function* gen() {
    yield* events;
  }
  await writePredictions(gen(), createPredictionWriter(format, out, options));
  return Buffer.concat(chunks).toString();
}

const region = (strand: '+' | '-', start = 101, length = 4): SequenceInput => ({
  name: 'chr1:101-104',
  strand,
  length,
  locus: { chrom: 'chr1', start, end: start + length - 1 },
  read: (from, to) => new Uint8Array(to - from),
});

const ROWS: [number, number, number][] = [
  [0.9, 0.1, 0],
  [0.2, 0.8, 0],
  [0.3, 0, 0.7],
  [1, 0, 0],
];

describe('formatProbability', () => {
  it('keeps 7 significant digits in the shortest form', () => {
    expect(formatProbability(Math.fround(0.99998712345))).toBe('0.9999871');
    expect(formatProbability(Math.fround(1.2345678e-7))).toBe('1.234568e-7');
    expect(formatProbability(0)).toBe('0');
    expect(formatProbability(1)).toBe('1');
    expect(formatProbability(Number.NaN)).toBe('null');
  });
});

describe('TSV', () => {
  it('writes name, 1-based position and the three classes; genome positions for a region, descending on -', async () => {
    const plus = await render('tsv', eventsFor(region('+'), ROWS));
    expect(plus.split('\n')).toEqual([
      'name\tposition\tneither\tacceptor\tdonor',
      'chr1:101-104\t101\t0.9\t0.1\t0',
      'chr1:101-104\t102\t0.2\t0.8\t0',
      'chr1:101-104\t103\t0.3\t0\t0.7',
      'chr1:101-104\t104\t1\t0\t0',
      '',
    ]);
    const minus = await render('tsv', eventsFor(region('-'), ROWS));
    expect(
      minus
        .split('\n')
        .slice(1, 5)
        .map((l) => l.split('\t')[1]),
    ).toEqual(['104', '103', '102', '101']);
    const raw = await render('tsv', eventsFor(sequenceInput('seq', 'ACG', { strand: '-' }), ROWS.slice(0, 3)), { header: false });
    expect(raw.split('\n')[0]).toBe('seq\t3\t0.9\t0.1\t0');
  });
  it('writes the header alone for no input', async () => {
    expect(await render('tsv', [])).toBe('name\tposition\tneither\tacceptor\tdonor\n');
  });
});

describe('BED (OpenSpliceAI layout)', () => {
  it('places + sites on the intron motif next to them: acceptor [g-3, g-1), donor [g, g+2)', async () => {
    const bed = await render('bed', eventsFor(region('+'), ROWS));
    expect(bed.split('\n')).toEqual(['chr1\t99\t101\tchr1:101-104_Acceptor\t0.800000\t+', 'chr1\t103\t105\tchr1:101-104_Donor\t0.700000\t+', '']);
  });
  it('places - sites mirrored: acceptor [g, g+2), donor [g-3, g-1)', async () => {
    const bed = await render('bed', eventsFor(region('-'), ROWS));
    // row 1 is position 103, row 2 position 102
    expect(bed.split('\n')).toEqual(['chr1\t103\t105\tchr1:101-104_Acceptor\t0.800000\t-', 'chr1\t99\t101\tchr1:101-104_Donor\t0.700000\t-', '']);
  });
  it('keeps sites strictly above the threshold, and a raw sequence is its own contig, rows clipped to it', async () => {
    const bed = await render('bed', eventsFor(sequenceInput('seq', 'ACGT'), ROWS), { threshold: 0.1 });
    // float32 0.1 is not above the float32 threshold 0.1; row 1 (g=2) clips [-1, 1) to [0, 1), row 3 (g=4) [3, 5) to [3, 4)
    expect(bed.split('\n')).toEqual(['seq\t0\t1\tseq_Acceptor\t0.800000\t+', 'seq\t3\t4\tseq_Donor\t0.700000\t+', '']);
    // Row 0's acceptor motif [-2, 0) is wholly off the contig: no row (an empty interval is not BED).
    const low = await render('bed', eventsFor(sequenceInput('seq', 'ACGT'), ROWS), { threshold: 0.05 });
    expect(low.split('\n')[0]).not.toMatch(/^seq\t0\t0\t/);
    expect(
      low
        .split('\n')
        .filter(Boolean)
        .every((l) => Number(l.split('\t')[1]) < Number(l.split('\t')[2]) && Number(l.split('\t')[2]) <= 4),
    ).toBe(true);
  });

  it('clips rows to the contig length of a region at the contig end', async () => {
    // A 4-base region at the very end of a 104-base chr1. On +, a donor at g is [g, g+2): g=101 fits,
    // g=103 clips [103, 105) to [103, 104), g=104's [104, 106) is wholly past the end: no row.
    const atEnd = { ...region('+'), locus: { chrom: 'chr1', start: 101, end: 104, contigLength: 104 } };
    const bed = await render(
      'bed',
      eventsFor(atEnd, [
        [0, 0, 0.9],
        [0, 0, 0],
        [0, 0, 0.9],
        [0, 0, 0.9],
      ]),
    );
    expect(bed.split('\n')).toEqual(['chr1\t101\t103\tchr1:101-104_Donor\t0.900000\t+', 'chr1\t103\t104\tchr1:101-104_Donor\t0.900000\t+', '']);
  });
});

describe('bedGraph', () => {
  it('writes an acceptor track then a donor track, 0-based, runs merged, zeros left out', async () => {
    const rows: [number, number, number][] = [
      [0.5, 0.25, 0],
      [0.5, 0.25, 0],
      [0.5, 0.25, 0.00001],
      [0.4, 0.5, 0.1],
    ];
    const text = await render(
      'bedgraph',
      [
        ...eventsFor(region('+', 11), rows, 1),
        ...eventsFor(sequenceInput('s', 'AC'), [
          [0, 0.5, 0.5],
          [0, 0.5, 0.5],
        ]),
      ],
      {
        trackName: 'mock-8',
      },
    );
    expect(text.split('\n')).toEqual([
      'track type=bedGraph name="mock-8 acceptor" description="mock-8 acceptor probability (MetaSpliceAI)" visibility=full autoScale=off viewLimits=0:1',
      'chr1\t10\t13\t0.2500',
      'chr1\t13\t14\t0.5000',
      's\t0\t2\t0.5000',
      'track type=bedGraph name="mock-8 donor" description="mock-8 donor probability (MetaSpliceAI)" visibility=full autoScale=off viewLimits=0:1',
      'chr1\t13\t14\t0.1000',
      's\t0\t2\t0.5000',
      '',
    ]);
  });
  it('merges runs on - as the rows descend, and drops values at or below the threshold', async () => {
    const text = await render(
      'bedgraph',
      eventsFor(region('-', 11), [
        [0, 0.3, 0],
        [0, 0.3, 0],
        [0, 0.2, 0],
        [0, 0.9, 0],
      ]),
      { threshold: 0.2 },
    );
    expect(text.split('\n').filter((l) => !l.startsWith('track'))).toEqual(['chr1\t12\t14\t0.3000', 'chr1\t10\t11\t0.9000', '']);
  });
  it('keeps the donor track on disk once it outgrows the spool limit', async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-writer-test-'));
    const n = 5000;
    const rows = Array.from({ length: n }, (_, i) => [0, 0, ((i % 7) + 1) / 10] as [number, number, number]);
    const text = await render('bedgraph', eventsFor(sequenceInput('s', 'A'.repeat(n)), rows, 333), { spoolLimit: 1000, tmpDir: dir });
    const lines = text.split('\n');
    expect(lines.filter((l) => l.startsWith('s\t')).length).toBe(n);
    expect(lines[1]).toMatch(/^track .*donor/);
    expect(lines[lines.length - 2]).toBe(`s\t${n - 1}\t${n}\t${(((n - 1) % 7) + 1) / 10}000`);
    expect(await fs.readdir(dir)).toEqual([]);
  });
});

describe('JSON Lines', () => {
  it('writes one object per query with the arrays in query order and the locus of regions', async () => {
    const text = await render('json', [...eventsFor(region('-'), ROWS, 3), ...eventsFor(sequenceInput('empty', ''), [])]);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({
      name: 'chr1:101-104',
      strand: '-',
      length: 4,
      chrom: 'chr1',
      start: 101,
      end: 104,
      neither: [0.9, 0.2, 0.3, 1],
      acceptor: [0.1, 0.8, 0, 0],
      donor: [0, 0, 0.7, 0],
    });
    expect(lines[1]).toEqual({ name: 'empty', strand: '+', length: 0, neither: [], acceptor: [], donor: [] });
  });
  it('spools long arrays to disk and still writes one valid line', async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-writer-test-'));
    const n = 20_000;
    const rows = Array.from({ length: n }, (_, i) => [1 - i / n, i / n / 2, i / n / 2] as [number, number, number]);
    const text = await render('json', eventsFor(sequenceInput('long', 'C'.repeat(n)), rows, 4096), { spoolLimit: 2000, tmpDir: dir });
    const obj = JSON.parse(text);
    expect(obj.acceptor).toHaveLength(n);
    expect(obj.donor[n - 1]).toBeCloseTo((n - 1) / n / 2, 6);
    expect(await fs.readdir(dir)).toEqual([]);
  });
});

describe('backpressure', () => {
  it('waits for a slow stream to drain instead of buffering everything', async () => {
    let pending = 0;
    let most = 0;
    let total = 0;
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, done) {
        pending += chunk.length;
        most = Math.max(most, slow.writableLength);
        total += chunk.length;
        setTimeout(() => {
          pending -= chunk.length;
          done();
        }, 1);
      },
    });
    const n = 30_000;
    const rows = Array.from({ length: n }, () => [0.5, 0.25, 0.25] as [number, number, number]);
    async function* gen() {
      yield* eventsFor(sequenceInput('s', 'A'.repeat(n)), rows, 1000);
    }
    await writePredictions(gen(), createPredictionWriter('tsv', slow));
    expect(total).toBeGreaterThan(n * 20);
    expect(most).toBeLessThan(200_000); // one 64 KiB block at a time, not the whole output
    expect(pending).toBeGreaterThanOrEqual(0);
  });
});
