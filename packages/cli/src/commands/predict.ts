import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { InputError, InvalidArgumentError, parseFlags } from '@metaspliceai/core';
import {
  createPredictionWriter,
  DEFAULT_BED_THRESHOLD,
  fastaRecordInputs,
  fastaRegionInput,
  geneInputs,
  inputBytes,
  openFasta,
  parseRegion,
  parseSequenceText,
  PREDICTION_FORMATS,
  predictionWriterOptionsSchema,
  type PredictionFormat,
  type QueryStrand,
  readAnnotation,
  readFastaRecords,
  SequenceInference,
  type SequenceInput,
  sequenceInput,
  writePredictions,
} from '@metaspliceai/genomics';
import { type GlobalOptions, inferenceFlags, managerFor, modelNote } from '../context.js';
import type { CliIO } from '../output/io.js';
import { createProgress } from '../output/progress.js';
import { checkOutputFile, type OutputFile, openOutputFile } from '../output/output-file.js';

interface PredictOptions extends GlobalOptions {
  model: string;
  set?: string;
  context?: string;
  fasta?: string;
  region: string[];
  genes?: string;
  sequence?: string;
  name: string;
  strand?: string;
  format: string;
  threshold?: string;
  output?: string;
  backend?: string;
  device?: string;
  threads?: string;
  tileSize?: string;
  batchSize?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * `metaspliceai predict`: per-position splice-site probabilities of sequences, FASTA records,
 * regions (with their real flanks) or every gene of an annotation, streamed to TSV, BED, bedGraph
 * or JSON Lines as they are produced.
 */
export function registerPredictCommand(program: Command, io: CliIO, run: (fn: () => Promise<number>) => Promise<void>): void {
  program
    .command('predict')
    .description('predict splice-site probabilities per position for sequences, FASTA records, regions or genes')
    .requiredOption('--model <adapter>', 'the base model family (adapter id), e.g. spliceai or openspliceai')
    .option('--set <name>', 'the model set, when several share a context (e.g. openspliceai-mane)')
    .option('--context <n>', 'the context window in nt (default: the largest available)')
    .option('--fasta <file>', 'FASTA to read (plain or bgzip with .fai/.gzi); without --region/--genes every record is predicted')
    .option('--region <chr:start-end>', 'a region of --fasta, 1-based inclusive, flanks read from the FASTA (repeatable)', collect, [])
    .option('--genes <annotation>', 'predict every gene of this GTF/GFF3 file (with --fasta), each on its own strand')
    .option(
      '--sequence <seq>',
      'a raw sequence to predict (N-padded, as the reference tools pad): A, C, G, T; U reads as T, N and IUPAC codes as N; anything else is an error',
    )
    .option('--name <name>', 'the name of --sequence in the output', 'sequence')
    .option('--strand <+|->', "read the queries on this strand; '-' predicts the reverse complement (default +)")
    .option('--format <format>', `output format: ${PREDICTION_FORMATS.join(', ')}`, 'tsv')
    .option('--threshold <p>', `bed: sites above this probability (default ${DEFAULT_BED_THRESHOLD}); bedgraph: leave out values at or below it (default 0)`)
    .option('--output <file>', 'write here instead of stdout')
    .option('--backend <name>', 'runtime backend (e.g. onnx, tfjs, auto)')
    .option('--device <device>', 'cpu or gpu')
    .option('--threads <n>', 'CPU threads for the runtime (default: all cores)')
    .option('--tile-size <n>', 'output positions per model window (default 40000; any size gives the same numbers; larger is faster)')
    .option('--batch-size <n>', 'windows per model call (default: one per thread, 2 to 16; each adds ~45 MB)')
    .option('--models-dir <dir>', 'the models folder (default: data/models, metaspliceai.config.json, or $METASPLICEAI_MODELS_DIR)')
    .option('--adapter <module...>', 'also register a third-party adapter (package name or path)')
    .option('--quiet', 'no progress bar and no notes on stderr')
    .option('--strict', 'refuse model files that differ from their model_info.json (size, sha256) instead of warning')
    .addHelpText(
      'after',
      `
Input: --fasta (with --region or --genes, or alone for every record), --sequence, or FASTA on stdin.
Positions are 1-based: genome coordinates for regions and genes, else the index in the sequence.
On '-' rows run 5'->3' along the reverse complement, so positions descend.

Examples:
  metaspliceai predict --model spliceai --sequence ACGT... --format json
  metaspliceai predict --model openspliceai --context 10000 --fasta hg19.fa --region chr10:93001-96000 --strand -
  metaspliceai predict --model spliceai --fasta genome.fa --genes genes.gff3 --format bed --threshold 0.5 --output sites.bed
  cat seqs.fa | metaspliceai predict --model spliceai --format tsv > probabilities.tsv`,
    )
    .action((opts: PredictOptions) => run(() => predict(opts, io)));
}

const writerFlags = predictionWriterOptionsSchema.pick({ threshold: true });

async function predict(opts: PredictOptions, io: CliIO): Promise<number> {
  // Arguments first, so a typo costs nothing; then the inputs (a bad region fails before the model loads).
  const format = parseFormat(opts.format);
  const strand = parseStrand(opts.strand);
  const { threshold } = parseFlags(writerFlags, { threshold: opts.threshold }, { threshold: '--threshold' });
  const modelOptions = inferenceFlags(opts);
  checkInputChoice(opts, io);

  const progress = createProgress(io, { label: 'predict', unit: 'nt', quiet: opts.quiet });
  const note = (line: string) => {
    if (!opts.quiet) progress.log(line);
  };
  const warn = (line: string) => progress.log(`warning: ${line}`); // shown even with --quiet
  const opened = await openInputs(opts, io, strand ?? '+', warn, note);
  const { total } = opened;
  const inputs = warnEmpty(opened.inputs, warn);

  // The output before the model: never one of the inputs, in an existing, writable folder.
  const outputPath = opts.output && opts.output !== '-' ? resolve(io.cwd, opts.output) : undefined;
  if (outputPath) {
    await checkOutputFile({ flag: '--output', name: opts.output!, path: outputPath }, [
      opts.fasta ? { flag: '--fasta', name: opts.fasta, path: resolve(io.cwd, opts.fasta) } : undefined,
      opts.genes ? { flag: '--genes', name: opts.genes, path: resolve(io.cwd, opts.genes) } : undefined,
    ]);
  }

  const manager = await managerFor(opts, io, { onWarning: warn });
  const inference = new SequenceInference({ models: manager, baseModelType: opts.model, setName: opts.set, backend: opts.backend, ...modelOptions });
  let out: Writable = io.stdout;
  let file: OutputFile | undefined; // appears under --output only once the run succeeded
  const ignore = () => {}; // stream errors reach the writer through its writes; keep them from crashing the process
  try {
    const model = await inference.load();
    const set = inference.set!;
    note(modelNote(set, model, inference.license));
    if (outputPath) {
      file = await openOutputFile(outputPath);
      out = file.stream;
    }
    out.on('error', ignore);
    if (total !== undefined) progress.setTotal(total);
    const writer = createPredictionWriter(format, out, { threshold, trackName: `${set.name}-${set.context}`, tracks: model.tracks });
    try {
      await writePredictions(inference.predict(inputs), writer, (event) => {
        if (event.type === 'rows') progress.advance(event.length);
      });
    } catch (error) {
      if (!file && (error as NodeJS.ErrnoException).code === 'EPIPE') return 0; // the reader left (| head): not a failure
      throw file ? file.failure(error) : error;
    }
    await file?.commit();
    file = undefined;
    progress.finish();
    return 0;
  } finally {
    progress.finish({ summary: false });
    await file?.abort(); // a failed run: no file under --output, an earlier one untouched
    out.off('error', ignore);
    await inference.dispose();
  }
}

function parseFormat(value: string): PredictionFormat {
  const format = value.toLowerCase() === 'jsonl' ? 'json' : value.toLowerCase();
  if (!(PREDICTION_FORMATS as readonly string[]).includes(format)) {
    throw new InvalidArgumentError(`--format takes ${PREDICTION_FORMATS.join(', ')}, got "${value}"`);
  }
  return format as PredictionFormat;
}

function parseStrand(value: string | undefined): QueryStrand | undefined {
  if (value === undefined) return undefined;
  if (value === '+' || value === '-') return value;
  if (value === 'plus' || value === 'forward') return '+';
  if (value === 'minus' || value === 'reverse') return '-';
  throw new InvalidArgumentError(`--strand takes + or -, got "${value}"`);
}

/** One input source: --fasta (alone, with --region, or with --genes), --sequence, or stdin. */
function checkInputChoice(opts: PredictOptions, io: CliIO): void {
  if (opts.fasta && opts.sequence) throw new InvalidArgumentError('give either --fasta or --sequence, not both');
  if ((opts.region.length || opts.genes) && !opts.fasta) {
    throw new InvalidArgumentError(`${opts.genes ? '--genes' : '--region'} reads its bases from a genome: give --fasta too`);
  }
  if (opts.region.length && opts.genes) throw new InvalidArgumentError('give either --region or --genes, not both');
  if (opts.genes && opts.strand) throw new InvalidArgumentError('--genes predicts each gene on its own strand: leave out --strand');
  if (!opts.fasta && opts.sequence === undefined && (io.stdin as { isTTY?: boolean }).isTTY) {
    throw new InvalidArgumentError('nothing to predict: give --fasta, --sequence, or pipe FASTA on stdin');
  }
}

/** The queries, pulled lazily, and their total length when known up front (for the bar). */
async function openInputs(
  opts: PredictOptions,
  io: CliIO,
  strand: QueryStrand,
  warn: (line: string) => void,
  note: (line: string) => void,
): Promise<{ inputs: Iterable<SequenceInput> | AsyncIterable<SequenceInput>; total?: number }> {
  if (opts.sequence !== undefined) {
    const parsed = parseSequenceText(opts.sequence);
    if (parsed.uracils) note(`note: --sequence: ${parsed.uracils} U read as T (RNA to DNA)`);
    const input = sequenceInput(opts.name, parsed.sequence, { strand });
    return { inputs: [input], total: input.length };
  }
  // Through inputBytes, so gzip (and bgzip) on stdin is decompressed rather than read as bases.
  if (!opts.fasta) return { inputs: readFastaRecords(inputBytes(io.stdin as AsyncIterable<Buffer>, 'stdin'), { strand, defaultName: 'stdin' }) };
  const path = resolve(io.cwd, opts.fasta);
  let fasta;
  try {
    fasta = await openFasta(path);
  } catch (error) {
    // Every record of a gzip file that cannot be read by position (plain gzip, or bgzip without its
    // index) is still readable front to back.
    if (!InputError.isInstance(error) || opts.region.length || opts.genes || !(await isGzip(path))) throw error;
    return { inputs: readFastaRecords(inputBytes(path, opts.fasta), { strand, source: opts.fasta }) };
  }
  if (opts.region.length) {
    const inputs: SequenceInput[] = [];
    for (const region of opts.region) inputs.push(await fastaRegionInput(fasta, parseRegion(region), { strand }));
    return { inputs, total: sum(inputs.map((i) => i.length)) };
  }
  if (opts.genes) {
    const annotation = await readAnnotation(resolve(io.cwd, opts.genes), { onWarning: warn });
    let skipped = 0;
    const genes = annotation.genes;
    const inputs: SequenceInput[] = [];
    for await (const input of geneInputs(fasta, genes, {
      onSkip: (gene, reason) => {
        if (++skipped <= 3) warn(`gene ${gene.name} skipped: ${reason}`);
      },
    })) {
      inputs.push(input);
    }
    if (skipped > 3) warn(`${skipped} of ${genes.length} genes skipped in all`);
    // Nothing to predict is an error, not an empty output that looks like a result.
    if (genes.length === 0) {
      throw new InputError(`${opts.genes}: no genes read (genes are read with their transcripts' exon lines)`, {
        hint: 'check that the file is a GTF or GFF3 with gene, transcript and exon lines',
      });
    }
    if (inputs.length === 0) {
      const list = (names: string[]) => names.slice(0, 8).join(', ') + (names.length > 8 ? `, ... (${names.length} in all)` : '');
      const geneContigs = [...new Set(genes.map((g) => g.chrom))];
      throw new InputError(
        `none of the ${genes.length} genes of ${opts.genes} lies on a contig of ${opts.fasta}: the genes are on ${list(geneContigs)}; the FASTA has ${list(await fasta.names())}`,
        {
          hint: 'give the FASTA of the genome the annotation was made for (contig names match with or without chr)',
        },
      );
    }
    return { inputs, total: sum(inputs.map((i) => i.length)) };
  }
  const names = await fasta.names();
  const lengths = await Promise.all(names.map((n) => fasta.length(n)));
  return { inputs: fastaRecordInputs(fasta, { strand }), total: sum(lengths.map((l) => l ?? 0)) };
}

/** Passes the queries through, warning about each empty one (it has no position, so no row). */
async function* warnEmpty(inputs: Iterable<SequenceInput> | AsyncIterable<SequenceInput>, warn: (line: string) => void): AsyncGenerator<SequenceInput> {
  for await (const input of inputs) {
    if (input.length === 0) warn(`${input.name}: empty sequence (0 bases), no rows written`);
    yield input;
  }
}

/** Whether the file starts with the gzip magic (plain gzip and bgzip alike). */
async function isGzip(path: string): Promise<boolean> {
  const handle = await fs.open(path, 'r').catch(() => undefined);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
