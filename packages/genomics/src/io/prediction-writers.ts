import type { Writable } from 'node:stream';
import { InvalidArgumentError, type OutputTrack, parseOptions, SPLICE_CLASS_TRACKS } from '@metaspliceai/core';
import { predictionWriterOptionsSchema } from './prediction-writer-options.js';
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
  /**
   * The model's tracks, in the order of each row's values (`LoadedModel.tracks`; default neither,
   * acceptor, donor). TSV and JSON write every track; bedGraph every track but a `neither` class
   * (site `none`); BED the acceptor/donor classes and the site-probability tracks.
   */
  tracks?: readonly OutputTrack[];
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
  parseOptions(predictionWriterOptionsSchema, options, { owner: 'createPredictionWriter' });
  const tracks = options.tracks ?? SPLICE_CLASS_TRACKS;
  if (tracks.length === 0) throw new InvalidArgumentError('a prediction writer needs at least one track');
  const text = new TextOutput(out);
  switch (format) {
    case 'tsv':
      return new TsvWriter(text, options, tracks);
    case 'bed':
      return new BedWriter(text, options, tracks);
    case 'bedgraph':
      return new BedGraphWriter(text, options, tracks);
    case 'json':
      return new JsonLinesWriter(text, options, tracks);
    default:
      throw new InvalidArgumentError(`unknown format "${String(format)}"; choose one of ${PREDICTION_FORMATS.join(', ')}`);
  }
}

/** Pipes events into a writer and closes it; `onEvent` sees each event first (progress bars). */
export async function writePredictions(
  events: AsyncIterable<PredictionEvent>,
  writer: PredictionWriter,
  onEvent?: (event: PredictionEvent) => void,
): Promise<void> {
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
 * `name  position  <track>...` (SpliceAI-shaped models: `neither  acceptor  donor`), one row per
 * position with a header line. `position`
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
    private readonly tracks: readonly OutputTrack[],
  ) {
    this.headerDone = options.header === false;
    this.digits = options.digits ?? 7;
  }

  async write(event: PredictionEvent): Promise<void> {
    await this.writeHeader();
    if (event.type !== 'rows') return;
    const { sequence, probabilities: p, offset, length } = event;
    const d = this.digits;
    const width = this.tracks.length;
    const lines: string[] = [];
    for (let k = 0; k < length; k++) {
      let line = `${sequence.name}\t${rowPosition(sequence, offset + k)}`;
      for (let c = k * width; c < (k + 1) * width; c++) line += `\t${formatProbability(p[c], d)}`;
      lines.push(`${line}\n`);
      if (lines.length === 1024 || k === length - 1) await this.out.write(lines.splice(0).join(''));
    }
  }

  private async writeHeader(): Promise<void> {
    if (this.headerDone) return;
    this.headerDone = true;
    await this.out.write(`name\tposition\t${this.tracks.map((t) => t.name).join('\t')}\n`);
  }

  async close(): Promise<void> {
    await this.writeHeader();
    await this.out.flush();
  }
}

/**
 * BED6 lines in OpenSpliceAI's `acceptor_predictions.bed` / `donor_predictions.bed` layout, every
 * site track in one stream: `chrom  start  end  <name>_Acceptor|<name>_Donor  score  strand`, score
 * with 6 decimals, a site when its score is above the threshold. As there, the interval is the
 * 2-nt splice motif in the intron next to the predicted site g (1-based; the acceptor's g is the
 * exon's first base, the donor's its last): on `+` an acceptor is [g-3, g-1) (the AG), a donor
 * [g, g+2) (the GT); on `-` an acceptor is [g, g+2) and a donor [g-3, g-1). Intervals are
 * clipped to the contig (0 to its length; a raw sequence or a whole FASTA record is its own
 * contig), and a site whose interval lies wholly outside it is left out: every row is valid BED.
 * A site-probability track of any site (tissue models) marks the base itself, [g-1, g), named
 * `<name>_<track>`. Usage tracks and the `neither` class are not sites.
 */
class BedWriter implements PredictionWriter {
  readonly format = 'bed' as const;
  private readonly threshold: number;
  /** The site tracks: column, label, and the interval's start relative to g on `+` and on `-` (and its width). */
  private readonly sites: { column: number; label: string; plus: number; minus: number; width: number }[];

  constructor(
    private readonly out: TextOutput,
    options: PredictionWriterOptions,
    private readonly tracks: readonly OutputTrack[],
  ) {
    this.threshold = Math.fround(options.threshold ?? DEFAULT_BED_THRESHOLD); // compared in float32, as OpenSpliceAI does
    this.sites = bedSiteTracks(tracks);
    if (this.sites.length === 0) {
      throw new InvalidArgumentError(
        `BED needs a site track (an acceptor/donor class or a site probability); the model's tracks are ${tracks.map((t) => t.name).join(', ')}`,
        {
          hint: 'choose --format tsv, bedgraph or json',
        },
      );
    }
  }

  async write(event: PredictionEvent): Promise<void> {
    if (event.type !== 'rows') return;
    const { sequence, probabilities: p, offset, length } = event;
    const chrom = chromOf(sequence);
    const plus = sequence.strand === '+';
    const width = this.tracks.length;
    const contigLength = sequence.locus ? (sequence.locus.contigLength ?? Infinity) : sequence.length;
    for (let k = 0; k < length; k++) {
      if (!this.sites.some((s) => p[k * width + s.column] > this.threshold)) continue;
      const g = rowPosition(sequence, offset + k);
      for (const site of this.sites) {
        const score = p[k * width + site.column];
        if (!(score > this.threshold)) continue;
        const start = g + (plus ? site.plus : site.minus);
        await this.out.write(
          bedLine(chrom, Math.max(0, start), Math.min(contigLength, start + site.width), `${sequence.name}_${site.label}`, score, sequence.strand),
        );
      }
    }
  }

  async close(): Promise<void> {
    await this.out.flush();
  }
}

/** The tracks BED writes, in track order, with their motif intervals (see `BedWriter`). */
function bedSiteTracks(tracks: readonly OutputTrack[]): { column: number; label: string; plus: number; minus: number; width: number }[] {
  return tracks.flatMap((t, column) => {
    if (t.kind === 'usage' || t.site === 'none' || t.site === undefined) return [];
    if (t.kind === 'class-probability' && t.site === 'acceptor') return [{ column, label: 'Acceptor', plus: -3, minus: 0, width: 2 }];
    if (t.kind === 'class-probability' && t.site === 'donor') return [{ column, label: 'Donor', plus: 0, minus: -3, width: 2 }];
    if (t.kind !== 'site-probability') return [];
    if (t.site === 'acceptor') return [{ column, label: t.name, plus: -3, minus: 0, width: 2 }];
    if (t.site === 'donor') return [{ column, label: t.name, plus: 0, minus: -3, width: 2 }];
    return [{ column, label: t.name, plus: -1, minus: -1, width: 1 }];
  });
}

/** One BED6 row of an interval already clipped to its contig; none when nothing of it is left. */
function bedLine(chrom: string, start: number, end: number, name: string, score: number, strand: string): string {
  if (end <= start) return '';
  return `${chrom}\t${start}\t${end}\t${name}\t${score.toFixed(6)}\t${strand}\n`;
}

/**
 * One bedGraph track per model track but the `neither` class (SpliceAI-shaped models: acceptor then
 * donor), each with its `track` line: `chrom  start  end  value`, 0-based half-open genome
 * coordinates (a raw sequence is its own contig). Runs of positions with the same rounded value
 * merge into one line; rows at or below the threshold, or rounding to 0, are left out. The first
 * track streams out; the others are kept aside (spilling to disk) and follow it on `close`. On `-`
 * the lines descend, as the rows do: sort them (`sort -k1,1 -k2,2n`) before `bedGraphToBigWig`.
 */
class BedGraphWriter implements PredictionWriter {
  readonly format = 'bedgraph' as const;
  private readonly threshold: number;
  private readonly decimals: number;
  /** Spools of the tracks after the first, which streams. */
  private readonly spools: TextSpool[];
  private readonly runs: Track[];
  /** Columns written, in track order. */
  private readonly columns: number[];
  private started = false;
  private readonly prefix: string;

  constructor(
    private readonly out: TextOutput,
    options: PredictionWriterOptions,
    private readonly tracks: readonly OutputTrack[],
  ) {
    this.threshold = Math.fround(options.threshold ?? 0);
    this.decimals = options.bedGraphDecimals ?? 4;
    this.columns = tracks.flatMap((t, c) => (t.site === 'none' ? [] : [c]));
    if (this.columns.length === 0)
      throw new InvalidArgumentError(`bedGraph has no track to write: the model's tracks are ${tracks.map((t) => t.name).join(', ')}`);
    this.spools = this.columns.slice(1).map(() => new TextSpool(options.spoolLimit, options.tmpDir));
    this.prefix = options.trackName ? `${options.trackName} ` : '';
    this.runs = this.columns.map((_, i) => new Track((s) => (i === 0 ? this.out.write(s) : this.spools[i - 1].write(s))));
  }

  private trackLine(column: number): string {
    const track = this.tracks[column];
    const name = `${this.prefix}${track.name}`.replace(/"/g, "'");
    const what = track.kind === 'usage' ? 'usage' : 'probability';
    return `track type=bedGraph name="${name}" description="${name} ${what} (MetaSpliceAI)" visibility=full autoScale=off viewLimits=0:1\n`;
  }

  async write(event: PredictionEvent): Promise<void> {
    if (!this.started) {
      this.started = true;
      await this.out.write(this.trackLine(this.columns[0]));
    }
    if (event.type === 'end') {
      for (const run of this.runs) await run.end();
      return;
    }
    if (event.type !== 'rows') return;
    const { sequence, probabilities: p, offset, length } = event;
    const chrom = chromOf(sequence);
    const width = this.tracks.length;
    for (let k = 0; k < length; k++) {
      const start = rowPosition(sequence, offset + k) - 1;
      for (let i = 0; i < this.columns.length; i++) {
        const v = p[k * width + this.columns[i]];
        const value = v > this.threshold ? v.toFixed(this.decimals) : undefined;
        await this.runs[i].add(chrom, start, value !== undefined && Number(value) !== 0 ? value : undefined);
      }
    }
  }

  async close(): Promise<void> {
    if (!this.started) await this.out.write(this.trackLine(this.columns[0]));
    for (const run of this.runs) await run.end();
    for (let i = 0; i < this.spools.length; i++) {
      await this.out.write(this.trackLine(this.columns[i + 1]));
      await this.spools[i].drainTo(this.out);
      await this.spools[i].dispose();
    }
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
 * "<track>":[...], ...}` in track order (SpliceAI-shaped models: `neither`, `acceptor`, `donor`),
 * arrays in the query's orientation (on `-`, index 0 is the region's last forward base).
 * `chrom`/`start`/`end` (1-based, inclusive) appear for regions and genes. The first array streams
 * out; the others are kept aside until the query ends (spilling to disk), so a chromosome-long line
 * costs no more memory than a short one.
 */
class JsonLinesWriter implements PredictionWriter {
  readonly format = 'json' as const;
  private readonly digits: number;
  /** Spools of the arrays after the first, which streams. */
  private readonly spools: TextSpool[];
  private first = true;

  constructor(
    private readonly out: TextOutput,
    options: PredictionWriterOptions,
    private readonly tracks: readonly OutputTrack[],
  ) {
    this.digits = options.digits ?? 7;
    this.spools = tracks.slice(1).map(() => new TextSpool(options.spoolLimit, options.tmpDir));
  }

  async write(event: PredictionEvent): Promise<void> {
    const { sequence } = event;
    if (event.type === 'begin') {
      const locus = sequence.locus ? `,"chrom":${JSON.stringify(sequence.locus.chrom)},"start":${sequence.locus.start},"end":${sequence.locus.end}` : '';
      await this.out.write(
        `{"name":${JSON.stringify(sequence.name)},"strand":"${sequence.strand}","length":${sequence.length}${locus},${JSON.stringify(this.tracks[0].name)}:[`,
      );
      this.first = true;
      return;
    }
    if (event.type === 'end') {
      for (let i = 0; i < this.spools.length; i++) {
        await this.out.write(`],${JSON.stringify(this.tracks[i + 1].name)}:[`);
        await this.spools[i].drainTo(this.out);
      }
      await this.out.write(']}\n');
      return;
    }
    const { probabilities: p, length } = event;
    const d = this.digits;
    const width = this.tracks.length;
    const columns: string[][] = this.tracks.map(() => []);
    for (let k = 0; k < length; k++) {
      for (let c = 0; c < width; c++) columns[c].push(formatProbability(p[k * width + c], d));
    }
    const sep = this.first ? '' : ',';
    this.first = false;
    await this.out.write(sep + columns[0].join(','));
    for (let i = 0; i < this.spools.length; i++) await this.spools[i].write(sep + columns[i + 1].join(','));
  }

  async close(): Promise<void> {
    for (const spool of this.spools) await spool.dispose();
    await this.out.flush();
  }
}
