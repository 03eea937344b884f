import type { Writable } from 'node:stream';
import { InvalidArgumentError } from '../errors.js';
import type { PredictionEvent } from '../inference/sequence-inference.js';
import { rowPosition, type SequenceInput } from '../inference/sequence-input.js';
import { TextOutput, TextSpool } from './text-output.js';

export const PREDICTION_FORMATS = ['tsv', 'bed', 'bedgraph', 'json'] as const;
export type PredictionFormat = (typeof PREDICTION_FORMATS)[number];

/** Sites in BED output by default: the SpliceAI paper's high-precision cut-off. */
export const DEFAULT_BED_THRESHOLD = 0.5;

export interface PredictionWriterOptions {
  /**
   * BED: write a site when its probability is above this (default `DEFAULT_BED_THRESHOLD`);
   * bedGraph: leave out rows at or below it (default 0).
   */
  threshold?: number;
  /** Significant digits of probabilities in TSV and JSON (default 7, as the reference fixtures). */
  digits?: number;
  /** Decimals of bedGraph values (default 4: a browser shows no finer step, and rows that round to 0 are left out, which keeps a chromosome's track small). */
  bedGraphDecimals?: number;
  /** TSV: write the header line (default true). */
  header?: boolean;
  /** bedGraph: prefix of the track names, e.g. the model (`spliceai-10000`). */
  trackName?: string;
  /** Where text kept aside (the donor track, JSON arrays) goes once it outgrows memory. */
  tmpDir?: string;
  /** Characters kept aside in memory before a temp file is used (default 1 Mi). */
  spoolLimit?: number;
}

/**
 * Writes an inference event stream as it arrives. `close` writes what was kept aside and flushes;
 * it does not end the stream (the caller owns it, and stdout must stay open).
 */
export interface PredictionWriter {
  readonly format: PredictionFormat;
  write(event: PredictionEvent): Promise<void>;
  close(): Promise<void>;
}

/** A writer for one of `PREDICTION_FORMATS`. */
export function createPredictionWriter(format: PredictionFormat, out: Writable, options: PredictionWriterOptions = {}): PredictionWriter {
  if (options.threshold !== undefined && !(Number.isFinite(options.threshold) && options.threshold >= 0 && options.threshold <= 1)) {
    throw new InvalidArgumentError(`threshold must be a probability from 0 to 1, got ${options.threshold}`);
  }
  const digits = options.digits ?? 7;
  if (!Number.isInteger(digits) || digits < 1 || digits > 17) throw new InvalidArgumentError(`digits must be a whole number from 1 to 17, got ${digits}`);
  const text = new TextOutput(out);
  switch (format) {
    case 'tsv':
      return new TsvWriter(text, options);
    case 'bed':
      return new BedWriter(text, options);
    case 'bedgraph':
      return new BedGraphWriter(text, options);
    case 'json':
      return new JsonLinesWriter(text, options);
    default:
      throw new InvalidArgumentError(`unknown format "${String(format)}"; choose one of ${PREDICTION_FORMATS.join(', ')}`);
  }
}

/** Pipes events into a writer and closes it; `onEvent` sees each event first (progress bars). */
export async function writePredictions(events: AsyncIterable<PredictionEvent>, writer: PredictionWriter, onEvent?: (event: PredictionEvent) => void): Promise<void> {
  for await (const event of events) {
    onEvent?.(event);
    await writer.write(event);
  }
  await writer.close();
}

/**
 * A probability with at most `digits` significant digits, in the shortest form that reads back
 * to that rounding (`0.9999871`, `1.234567e-7`); valid in TSV and JSON alike.
 */
export function formatProbability(value: number, digits = 7): string {
  if (value === 0) return '0';
  if (!Number.isFinite(value)) return 'null';
  return String(Number(value.toPrecision(digits)));
}

/** The contig a row is placed on: the locus's, or the sequence's own name. */
function chromOf(sequence: SequenceInput): string {
  return sequence.locus?.chrom ?? sequence.name;
}

/**
 * `name  position  neither  acceptor  donor`, one row per position with a header line. `position`
 * is 1-based: the genome coordinate for a region or gene, else the index into the sequence; on
 * `-` rows run 5'->3' along the query, so positions descend.
 */
class TsvWriter implements PredictionWriter {
  readonly format = 'tsv' as const;
  private headerDone: boolean;
  private readonly digits: number;

  constructor(
    private readonly out: TextOutput,
    options: PredictionWriterOptions,
  ) {
    this.headerDone = options.header === false;
    this.digits = options.digits ?? 7;
  }

  async write(event: PredictionEvent): Promise<void> {
    await this.writeHeader();
    if (event.type !== 'rows') return;
    const { sequence, probabilities: p, offset, length } = event;
    const d = this.digits;
    const lines: string[] = [];
    for (let k = 0; k < length; k++) {
      const i = k * 3;
      lines.push(`${sequence.name}\t${rowPosition(sequence, offset + k)}\t${formatProbability(p[i], d)}\t${formatProbability(p[i + 1], d)}\t${formatProbability(p[i + 2], d)}\n`);
      if (lines.length === 1024 || k === length - 1) await this.out.write(lines.splice(0).join(''));
    }
  }

  private async writeHeader(): Promise<void> {
    if (this.headerDone) return;
    this.headerDone = true;
    await this.out.write('name\tposition\tneither\tacceptor\tdonor\n');
  }

  async close(): Promise<void> {
    await this.writeHeader();
    await this.out.flush();
  }
}

/**
 * BED6 lines in OpenSpliceAI's `acceptor_predictions.bed` / `donor_predictions.bed` layout, both
 * classes in one stream: `chrom  start  end  <name>_Acceptor|<name>_Donor  score  strand`, score
 * with 6 decimals, a site when its score is above the threshold. As there, the interval is the
 * 2-nt splice motif in the intron next to the predicted site g (1-based; the acceptor's g is the
 * exon's first base, the donor's its last): on `+` an acceptor is [g-3, g-1) (the AG), a donor
 * [g, g+2) (the GT); on `-` an acceptor is [g, g+2) and a donor [g-3, g-1). Starts clip at 0.
 */
class BedWriter implements PredictionWriter {
  readonly format = 'bed' as const;
  private readonly threshold: number;

  constructor(
    private readonly out: TextOutput,
    options: PredictionWriterOptions,
  ) {
    this.threshold = Math.fround(options.threshold ?? DEFAULT_BED_THRESHOLD); // compared in float32, as OpenSpliceAI does
  }

  async write(event: PredictionEvent): Promise<void> {
    if (event.type !== 'rows') return;
    const { sequence, probabilities: p, offset, length } = event;
    const chrom = chromOf(sequence);
    const plus = sequence.strand === '+';
    for (let k = 0; k < length; k++) {
      const acceptor = p[k * 3 + 1];
      const donor = p[k * 3 + 2];
      if (!(acceptor > this.threshold) && !(donor > this.threshold)) continue;
      const g = rowPosition(sequence, offset + k);
      if (acceptor > this.threshold) {
        const start = plus ? g - 3 : g;
        await this.out.write(bedLine(chrom, start, start + 2, `${sequence.name}_Acceptor`, acceptor, sequence.strand));
      }
      if (donor > this.threshold) {
        const start = plus ? g : g - 3;
        await this.out.write(bedLine(chrom, start, start + 2, `${sequence.name}_Donor`, donor, sequence.strand));
      }
    }
  }

  async close(): Promise<void> {
    await this.out.flush();
  }
}

function bedLine(chrom: string, start: number, end: number, name: string, score: number, strand: string): string {
  return `${chrom}\t${Math.max(0, start)}\t${Math.max(0, end)}\t${name}\t${score.toFixed(6)}\t${strand}\n`;
}

/**
 * Two bedGraph tracks, acceptor then donor, each with its `track` line: `chrom  start  end  value`,
 * 0-based half-open genome coordinates (a raw sequence is its own contig). Runs of positions with
 * the same rounded value merge into one line; rows at or below the threshold, or rounding to 0,
 * are left out. The acceptor track streams out; the donor track is kept aside (spilling to disk)
 * and follows it on `close`. On `-` the lines descend, as the rows do: sort them
 * (`sort -k1,1 -k2,2n`) before `bedGraphToBigWig`.
 */
class BedGraphWriter implements PredictionWriter {
  readonly format = 'bedgraph' as const;
  private readonly threshold: number;
  private readonly decimals: number;
  private readonly donors: TextSpool;
  private readonly tracks: [Track, Track];
  private started = false;
  private readonly prefix: string;

  constructor(
    private readonly out: TextOutput,
    options: PredictionWriterOptions,
  ) {
    this.threshold = Math.fround(options.threshold ?? 0);
    this.decimals = options.bedGraphDecimals ?? 4;
    this.donors = new TextSpool(options.spoolLimit, options.tmpDir);
    this.prefix = options.trackName ? `${options.trackName} ` : '';
    this.tracks = [new Track((s) => this.out.write(s)), new Track((s) => this.donors.write(s))];
  }

  private trackLine(kind: string): string {
    const name = `${this.prefix}${kind}`.replace(/"/g, "'");
    return `track type=bedGraph name="${name}" description="${name} probability (MetaSpliceAI)" visibility=full autoScale=off viewLimits=0:1\n`;
  }

  async write(event: PredictionEvent): Promise<void> {
    if (!this.started) {
      this.started = true;
      await this.out.write(this.trackLine('acceptor'));
    }
    if (event.type === 'end') {
      for (const track of this.tracks) await track.end();
      return;
    }
    if (event.type !== 'rows') return;
    const { sequence, probabilities: p, offset, length } = event;
    const chrom = chromOf(sequence);
    for (let k = 0; k < length; k++) {
      const start = rowPosition(sequence, offset + k) - 1;
      for (let c = 0; c < 2; c++) {
        const v = p[k * 3 + 1 + c];
        const value = v > this.threshold ? v.toFixed(this.decimals) : undefined;
        await this.tracks[c].add(chrom, start, value !== undefined && Number(value) !== 0 ? value : undefined);
      }
    }
  }

  async close(): Promise<void> {
    if (!this.started) await this.out.write(this.trackLine('acceptor'));
    for (const track of this.tracks) await track.end();
    await this.out.write(this.trackLine('donor'));
    await this.donors.drainTo(this.out);
    await this.donors.dispose();
    await this.out.flush();
  }
}

/** One bedGraph track's open run of equal values, extended up or down the contig. */
class Track {
  private chrom = '';
  private lo = 0;
  private hi = 0;
  private value: string | undefined;

  constructor(private readonly emit: (line: string) => Promise<void>) {}

  /** Adds the base at 0-based `start` with `value` (undefined: no line for it). */
  async add(chrom: string, start: number, value: string | undefined): Promise<void> {
    if (this.value !== undefined && value === this.value && chrom === this.chrom) {
      if (start === this.hi) {
        this.hi++;
        return;
      }
      if (start === this.lo - 1) {
        this.lo--;
        return;
      }
    }
    await this.end();
    if (value === undefined) return;
    this.chrom = chrom;
    this.lo = start;
    this.hi = start + 1;
    this.value = value;
  }

  async end(): Promise<void> {
    if (this.value === undefined) return;
    const line = `${this.chrom}\t${this.lo}\t${this.hi}\t${this.value}\n`;
    this.value = undefined;
    await this.emit(line);
  }
}

/**
 * JSON Lines, one object per query: `{"name","strand","length",["chrom","start","end",]
 * "neither":[...],"acceptor":[...],"donor":[...]}`, arrays in the query's orientation (on `-`,
 * index 0 is the region's last forward base). `chrom`/`start`/`end` (1-based, inclusive) appear for
 * regions and genes. `neither` streams out; the other two arrays are kept aside until the query
 * ends (spilling to disk), so a chromosome-long line costs no more memory than a short one.
 */
class JsonLinesWriter implements PredictionWriter {
  readonly format = 'json' as const;
  private readonly digits: number;
  private readonly acceptor: TextSpool;
  private readonly donor: TextSpool;
  private first = true;

  constructor(
    private readonly out: TextOutput,
    options: PredictionWriterOptions,
  ) {
    this.digits = options.digits ?? 7;
    this.acceptor = new TextSpool(options.spoolLimit, options.tmpDir);
    this.donor = new TextSpool(options.spoolLimit, options.tmpDir);
  }

  async write(event: PredictionEvent): Promise<void> {
    const { sequence } = event;
    if (event.type === 'begin') {
      const locus = sequence.locus ? `,"chrom":${JSON.stringify(sequence.locus.chrom)},"start":${sequence.locus.start},"end":${sequence.locus.end}` : '';
      await this.out.write(`{"name":${JSON.stringify(sequence.name)},"strand":"${sequence.strand}","length":${sequence.length}${locus},"neither":[`);
      this.first = true;
      return;
    }
    if (event.type === 'end') {
      await this.out.write('],"acceptor":[');
      await this.acceptor.drainTo(this.out);
      await this.out.write('],"donor":[');
      await this.donor.drainTo(this.out);
      await this.out.write(']}\n');
      return;
    }
    const { probabilities: p, length } = event;
    const d = this.digits;
    const n: string[] = [];
    const a: string[] = [];
    const o: string[] = [];
    for (let k = 0; k < length; k++) {
      n.push(formatProbability(p[k * 3], d));
      a.push(formatProbability(p[k * 3 + 1], d));
      o.push(formatProbability(p[k * 3 + 2], d));
    }
    const sep = this.first ? '' : ',';
    this.first = false;
    await this.out.write(sep + n.join(','));
    await this.acceptor.write(sep + a.join(','));
    await this.donor.write(sep + o.join(','));
  }

  async close(): Promise<void> {
    await this.acceptor.dispose();
    await this.donor.dispose();
    await this.out.flush();
  }
}
