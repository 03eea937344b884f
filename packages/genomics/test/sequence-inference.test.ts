import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encodeSequence, InputError, InvalidArgumentError, type LoadedModel, predictPacked, reverseComplementCodes, tileLengthFor } from '@metaspliceai/core';
import {
  fastaRecordInputs,
  fastaRegionInput,
  formatRegion,
  geneInputs,
  openFasta,
  parseRegion,
  type PredictionEvent,
  readFastaRecords,
  rowPosition,
  SequenceInference,
  type SequenceInput,
  sequenceInput,
} from '@metaspliceai/genomics';
import { defaultBatchSize } from '../src/inference/sequence-inference.js';
import { mockModel, mockScore, randomSequence } from '@metaspliceai/core/testing';
import { SHARED } from '../../../test-support/shared.js';

const FA = join(SHARED, 'data/chr10_hg19_test.fa');

/** A model that counts its predict calls and the tiles in them. */
function counting(model: LoadedModel) {
  const calls: { batch: number; length: number }[] = [];
  return {
    calls,
    model: {
      ...model,
      predict: (b: Parameters<LoadedModel['predict']>[0]) => (calls.push({ batch: b.batch, length: b.length }), model.predict(b)),
    } as LoadedModel,
  };
}

/** Collects the rows of every query from an event stream, checking the begin/rows/end order. */
async function collect(events: AsyncIterable<PredictionEvent>) {
  const out: { sequence: SequenceInput; rows: Float32Array }[] = [];
  let open: { sequence: SequenceInput; rows: Float32Array; next: number } | undefined;
  for await (const e of events) {
    if (e.type === 'begin') {
      expect(open).toBeUndefined();
      open = { sequence: e.sequence, rows: new Float32Array(e.sequence.length * 3), next: 0 };
    } else if (e.type === 'rows') {
      expect(e.sequence).toBe(open!.sequence);
      expect(e.offset).toBe(open!.next);
      open!.rows.set(e.probabilities, e.offset * 3);
      open!.next += e.length;
    } else {
      expect(open!.next).toBe(e.sequence.length);
      out.push({ sequence: open!.sequence, rows: open!.rows });
      open = undefined;
    }
  }
  expect(open).toBeUndefined();
  return out;
}

/** Expected mock rows: position i scored over `codes` (N outside), for i in [from, from + n). */
function expectMock(rows: Float32Array, codes: Uint8Array, context: number, from = 0) {
  const n = rows.length / 3;
  for (let k = 0; k < n; k++) {
    const s = mockScore(codes, from + k, context);
    for (let c = 0; c < 3; c++) {
      if (Math.abs(rows[k * 3 + c] - s[c]) > 1e-6) throw new Error(`row ${k} class ${c}: ${rows[k * 3 + c]} vs ${s[c]}`);
    }
  }
}

describe('regions', () => {
  it('parses chr:start-end 1-based inclusive, with separators, single positions and bare contigs', () => {
    expect(parseRegion('chr10:93,001-96,000')).toEqual({ chrom: 'chr10', start: 93001, end: 96000 });
    expect(parseRegion(' 10:5 ')).toEqual({ chrom: '10', start: 5, end: 5 });
    expect(parseRegion('chrM')).toEqual({ chrom: 'chrM' });
    expect(parseRegion('HLA-A*01:01:01:01:100-200')).toEqual({ chrom: 'HLA-A*01:01:01:01', start: 100, end: 200 });
    expect(formatRegion({ chrom: 'chr1', start: 1, end: 9 })).toBe('chr1:1-9');
  });
  it('refuses empty, zero-based and reversed regions with a usage error', () => {
    for (const bad of ['', 'chr1:0-5', 'chr1:9-3', ':1-2', 'chr 1']) {
      expect(() => parseRegion(bad)).toThrow();
      try {
        parseRegion(bad);
      } catch (e) {
        expect(InvalidArgumentError.isInstance(e)).toBe(true);
      }
    }
    expect(() => parseRegion('chr1:9-3')).toThrow(/ends before it starts/);
  });
});

describe('SequenceInference (mock model)', () => {
  const context = 80;
  const tiled = { tileSize: 5000, batchSize: 4 };

  it('batches one tile per thread by default, from 2 to 16', () => {
    expect([1, 2, 16, 64].map((threads) => defaultBatchSize(threads))).toEqual([2, 2, 16, 16]);
  });

  for (const n of [5001, 5000, 30, 1]) {
    it(`predicts a ${n}-nt sequence like the reference windowing${n === 30 ? ' (shorter than the flank)' : ''}`, async () => {
      const { model, calls } = counting(mockModel(context));
      const inference = new SequenceInference({ models: model, ...tiled });
      const seq = randomSequence(n, n, 'ACGT');
      const result = await inference.predictSequence(seq);
      expect(result.length).toBe(n);
      expectMock(result.probabilities, encodeSequence(seq), context);
      const tiles = calls.reduce((t, c) => t + c.batch, 0);
      expect(tiles).toBe(Math.ceil(n / 5000)); // 5001 nt: two tiles, as the reference's two windows
      if (n === 5001) expect(calls.map((c) => [c.batch, c.length])).toEqual([[2, 2528 + context]]); // one call: two equal tiles
    });
  }

  it('upper-cases and reads IUPAC and other symbols as N', async () => {
    const inference = new SequenceInference({ models: mockModel(8) });
    const mixed = await inference.predictSequence('acgtRYKMSWBDHVN-.*acGTA');
    const plain = await inference.predictSequence('ACGTNNNNNNNNNNNNNNACGTA');
    expect([...mixed.probabilities]).toEqual([...plain.probabilities]);
  });

  it("reads a '-' query as the reverse complement, rows 5'->3' along it, labelled by descending positions", async () => {
    const seq = randomSequence(300, 4, 'ACGT');
    const inference = new SequenceInference({ models: mockModel(context) });
    const minus = await inference.predictSequence(seq, { strand: '-' });
    expectMock(minus.probabilities, reverseComplementCodes(encodeSequence(seq)), context);
    const input = sequenceInput('s', seq, { strand: '-' });
    expect(rowPosition(input, 0)).toBe(300);
    expect(rowPosition(input, 299)).toBe(1);
    // the mock's acceptor counts A: on '-' it counts the forward T
    const plus = await inference.predictSequence(seq);
    expect(minus.probabilities[1]).not.toBe(plus.probabilities[1]);
  });

  it('gives the same rows for any tile and batch size', async () => {
    const seq = randomSequence(12_345, 2, 'ACGTN');
    const ref = await new SequenceInference({ models: mockModel(context), tileSize: 5000, batchSize: 4 }).predictSequence(seq, { strand: '-' });
    for (const [tileSize, batchSize] of [
      [7, 3],
      [999, 1],
      [40_000, 2],
    ]) {
      const other = await new SequenceInference({ models: mockModel(context), tileSize, batchSize }).predictSequence(seq, { strand: '-' });
      expect(other.probabilities).toEqual(ref.probabilities);
    }
  });

  it('packs many short records into few predict calls, rows unchanged and in order', async () => {
    const { model, calls } = counting(mockModel(context));
    const inference = new SequenceInference({ models: model, tileSize: 5000, batchSize: 16 });
    const seqs = Array.from({ length: 40 }, (_, i) => randomSequence(20 + ((i * 7) % 25), i + 10, 'ACGT'));
    const inputs = seqs.map((s, i) => sequenceInput(`r${i}`, s, { strand: i % 2 ? '-' : '+' }));
    inputs.splice(5, 0, sequenceInput('empty', ''));
    const results = await collect(inference.predict(inputs));
    expect(results.map((r) => r.sequence.name)).toEqual(inputs.map((i) => i.name));
    expect(calls.length).toBeLessThanOrEqual(5); // 40 records, tile 32 or 64: a handful of calls, not 40
    for (const r of results) {
      const i = inputs.indexOf(r.sequence);
      if (r.sequence.length === 0) continue;
      const codes = encodeSequence(i > 5 ? seqs[i - 1] : seqs[i]);
      expectMock(r.rows, r.sequence.strand === '-' ? reverseComplementCodes(codes) : codes, context);
    }
  });

  it('rounds short tiles to a step of a tenth of the context', () => {
    expect(tileLengthFor(50, 10_000, 20_000)).toBe(1000);
    expect(tileLengthFor(1200, 10_000, 20_000)).toBe(2000);
    expect(tileLengthFor(50, 80, 20_000)).toBe(64);
    expect(tileLengthFor(123_456, 10_000, 20_000)).toBe(20_000);
  });

  it('streams a long input in bounded chunks, pulling inputs lazily', async () => {
    const n = 3_000_000;
    let reads = 0;
    let widest = 0;
    const lazy: SequenceInput = {
      name: 'synthetic',
      strand: '+',
      length: n,
      read(from, to) {
        reads++;
        widest = Math.max(widest, to - from);
        const out = new Uint8Array(to - from);
        for (let i = 0; i < out.length; i++) out[i] = from + i >= 0 && from + i < n ? 1 + ((from + i) % 4) : 0;
        return out;
      },
    };
    let pulled = 0;
    async function* inputs() {
      pulled++;
      yield lazy;
      pulled++;
      yield sequenceInput('after', 'ACGT');
    }
    const inference = new SequenceInference({ models: mockModel(8), tileSize: 20_000, batchSize: 2 });
    let rows = 0;
    let biggest = 0;
    let firstRowsAt = -1;
    for await (const e of inference.predict(inputs())) {
      if (e.type === 'rows') {
        if (firstRowsAt < 0) firstRowsAt = pulled;
        rows += e.length;
        biggest = Math.max(biggest, e.length);
      }
    }
    expect(firstRowsAt).toBe(1); // rows of the first input came out before the second was pulled
    expect(rows).toBe(n + 4);
    expect(biggest).toBeLessThanOrEqual(40_000);
    expect(widest).toBe(20_008);
    expect(reads).toBe(150); // one read per 20000-output tile
  });

  it('disposes each input after its last row, and the unfinished ones when stopped early', async () => {
    const disposed: string[] = [];
    const make = (name: string) => ({ ...sequenceInput(name, randomSequence(100, 3, 'ACGT')), dispose: () => void disposed.push(name) });
    const inference = new SequenceInference({ models: mockModel(8), tileSize: 10, batchSize: 1 });
    await collect(inference.predict([make('a'), make('b')]));
    expect(disposed).toEqual(['a', 'b']);
    disposed.length = 0;
    for await (const e of inference.predict([make('c'), make('d')])) if (e.type === 'rows') break;
    expect(disposed).toEqual(['c']);
  });

  it('refuses meta-model modes for now and bad options', () => {
    expect(() => new SequenceInference({ models: mockModel(8), mode: 'hybrid' as never })).toThrow(/not available; available: base_only/);
    expect(() => new SequenceInference({ models: mockModel(8), tileSize: 0 })).toThrow(/tileSize/);
  });
});

describe('FASTA inputs with real flanks', () => {
  const context = 80;

  it('reads a region with its flanks from the FASTA, N only beyond the contig', async () => {
    const fasta = await openFasta(FA);
    const contig = encodeSequence(await fasta.fetch('chr10', 0, 110_000));
    const inference = new SequenceInference({ models: mockModel(context) });
    const region = await fastaRegionInput(fasta, parseRegion('10:94,531-94,580'));
    expect(region.name).toBe('chr10:94531-94580');
    expect(region.locus).toEqual({ chrom: 'chr10', start: 94531, end: 94580, contigLength: await fasta.length('chr10') });
    const [plus] = await collect(inference.predict([region]));
    expectMock(plus.rows, contig, context, 94_530); // scored in the genome, not N-padded
    const padded = await inference.predictSequence(await fasta.fetch('chr10', 94_530, 94_580));
    expect(padded.probabilities).not.toEqual(plus.rows);
    // '-': the reverse complement of the genome, rows from the region's end down
    const [minus] = await collect(inference.predict([await fastaRegionInput(fasta, parseRegion('chr10:94531-94580'), { strand: '-' })]));
    const rc = reverseComplementCodes(contig);
    expectMock(minus.rows, rc, context, 110_000 - 94_580);
    // at the contig's end the flank is N
    const [tail] = await collect(inference.predict([await fastaRegionInput(fasta, parseRegion('chr10:109981-110000'))]));
    expectMock(tail.rows, contig, context, 109_980);
  });

  it('names missing contigs and out-of-range regions', async () => {
    const fasta = await openFasta(FA);
    const missing = await fastaRegionInput(fasta, parseRegion('chr7:1-10')).catch((e) => e);
    expect(InputError.isInstance(missing)).toBe(true);
    expect(missing.message).toMatch(/no contig chr7 .*the file has chr10/);
    await expect(fastaRegionInput(fasta, parseRegion('chr10:109990-110010'))).rejects.toThrow(/ends past the end of chr10 \(110000 bases/);
  });

  it('predicts every record of a FASTA file, N-padded like raw sequences', async () => {
    const fasta = await openFasta(join(SHARED, 'fixtures/sequences.fa'));
    const records: SequenceInput[] = [];
    for await (const r of fastaRecordInputs(fasta)) records.push(r);
    expect(records.map((r) => [r.name, r.length, r.locus])).toEqual([
      ['tubb8_window', 3000, undefined],
      ['random1200_seed7', 1200, undefined],
      ['short50', 50, undefined],
    ]);
    const inference = new SequenceInference({ models: mockModel(context) });
    const results = await collect(inference.predict(records));
    const short = await inference.predictSequence(await fasta.fetch('short50', 0, 50));
    expect(results[2].rows).toEqual(short.probabilities);
  });

  it('predicts genes on their own strands with real flanks, skipping those the FASTA lacks', async () => {
    const fasta = await openFasta(FA);
    const contig = encodeSequence(await fasta.fetch('chr10', 0, 110_000));
    const skipped: string[] = [];
    const genes = [
      { chrom: '10', start: 92_893, end: 95_529, strand: '-', name: 'TUBB8' },
      { chrom: 'chr3', start: 10, end: 20, strand: '+', name: 'ELSEWHERE' },
      { chrom: 'chr10', start: 100, end: 120, strand: '+', name: 'EARLY' },
    ];
    const inputs: SequenceInput[] = [];
    for await (const g of geneInputs(fasta, genes, { onSkip: (g, why) => skipped.push(`${g.name}: ${why}`) })) inputs.push(g);
    expect(skipped).toEqual([expect.stringMatching(/^ELSEWHERE: no contig chr3/)]);
    expect(inputs.map((i) => [i.name, i.strand, i.length])).toEqual([
      ['TUBB8', '-', 2637],
      ['EARLY', '+', 21],
    ]);
    const [tubb8] = await collect(new SequenceInference({ models: mockModel(context) }).predict(inputs));
    expectMock(tubb8.rows, reverseComplementCodes(contig), context, 110_000 - 95_529);
  });
});

describe('FASTA records from a stream', () => {
  const stream = (...chunks: string[]) => Readable.from(chunks.map((c) => Buffer.from(c)));

  it('reads records across chunk boundaries, CRLF and blank lines included', async () => {
    const records = [];
    for await (const r of readFastaRecords(stream('>a first one\r\nAC', 'gt\r\n\r\nNN\n>', 'b\nTTTT\n>empty\n>c  x y \nG'))) {
      records.push({ name: r.name, description: r.description, length: r.length, codes: [...(await r.read(-1, r.length + 1))] });
    }
    expect(records).toEqual([
      { name: 'a', description: 'first one', length: 6, codes: [0, 1, 2, 3, 4, 0, 0, 0] },
      { name: 'b', description: '', length: 4, codes: [0, 4, 4, 4, 4, 0] },
      { name: 'empty', description: '', length: 0, codes: [0, 0] },
      { name: 'c', description: 'x y', length: 1, codes: [0, 3, 0] },
    ]);
  });

  it('takes headerless input as one sequence', async () => {
    const all = [];
    for await (const r of readFastaRecords(stream('acgt\nNNa\n'), { defaultName: 'stdin' })) all.push([r.name, r.length]);
    expect(all).toEqual([['stdin', 7]]);
  });

  it('spills a record longer than maxInMemory to a temp file, read back by position and removed on dispose', async () => {
    const seq = randomSequence(50_000, 5, 'ACGT');
    const lines = seq.match(/.{1,60}/g)!.join('\n');
    const dir = await fs.mkdtemp(join((await import('node:os')).tmpdir(), 'metaspliceai-spill-test-'));
    const records = [];
    for await (const r of readFastaRecords(stream('>big\n', lines.slice(0, 20_000), lines.slice(20_000), '\n>small\nAC\n'), { maxInMemory: 4096, tmpDir: dir }))
      records.push(r);
    expect(records.map((r) => [r.name, r.length])).toEqual([
      ['big', 50_000],
      ['small', 2],
    ]);
    expect((await fs.readdir(dir)).length).toBe(1);
    const codes = encodeSequence(seq);
    expect([...(await records[0].read(49_990, 50_005))]).toEqual([...codes.subarray(49_990), 0, 0, 0, 0, 0]);
    const inference = new SequenceInference({ models: mockModel(80), tileSize: 7000 });
    const results = await collect(inference.predict(records));
    expectMock(results[0].rows, codes, 80);
    expect(await fs.readdir(dir)).toEqual([]); // disposed after its last row
  });

  it('refuses a header with no name', async () => {
    const gen = readFastaRecords(stream('>\nACGT\n'));
    await expect(gen.next()).rejects.toThrow(/header with no name/);
  });
});

describe('predictPacked', () => {
  it('yields chunks job by job even when tiles of several jobs share a call', async () => {
    const model = mockModel(8);
    const codes = encodeSequence('ACGTACGTAC');
    const src = (start: number, end: number) => {
      const out = new Uint8Array(end - start);
      for (let i = start; i < end; i++) if (i - 4 >= 0 && i - 4 < codes.length) out[i - start] = codes[i - 4];
      return out;
    };
    const chunks = [];
    for await (const c of predictPacked(
      model,
      [
        { tag: 'x', outputLength: 10, source: src },
        { tag: 'y', outputLength: 10, source: src },
      ],
      { tileSize: 4, batchSize: 8 },
    )) {
      chunks.push([c.tag, c.offset, c.length, c.done]);
    }
    // tile 10 (short: one tile each), both in one call
    expect(chunks).toEqual([
      ['x', 0, 10, true],
      ['y', 0, 10, true],
    ]);
  });
});
