import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError, InvalidArgumentError, modelSetKey, oneOf, optionsObject, parseFlags, probability, sha256File, wholeNumber } from '@metaspliceai/core';
import { EVALUATE_DEFAULTS, mergeEvaluations, openFasta, runEvaluation, SequenceInference, type TnSample } from '@metaspliceai/genomics';
import { type GlobalOptions, inferenceFlags, managerFor, modelNote } from '../context.js';
import { type CliIO, writeLine } from '../output/io.js';
import { createProgress } from '../output/progress.js';

interface EvaluateOptions extends GlobalOptions {
  model: string;
  set?: string;
  context?: string;
  fasta: string;
  annotation: string;
  genes?: string;
  genesFile?: string;
  chromosomes?: string;
  biotype?: string;
  transcripts: string;
  threshold: string;
  window: string;
  errorWindow: string;
  tnSample: string;
  seed: string;
  nucleotideScores?: boolean;
  format: string;
  outputDir: string;
  force?: boolean;
  chunkGenes?: string;
  genomicBuild?: string;
  backend?: string;
  device?: string;
  threads?: string;
  tileSize?: string;
  batchSize?: string;
}

/**
 * `metaspliceai evaluate`: the MetaSpliceAI base-model pass. Predicts every selected gene with
 * its real flanks, labels positions against the annotation and writes the tables MetaSpliceAI's
 * meta-layer reads, resumably, by contig in chunks.
 */
export function registerEvaluateCommand(program: Command, io: CliIO, run: (fn: () => Promise<number>) => Promise<void>): void {
  program
    .command('evaluate')
    .description("judge a base model against an annotation, gene by gene: MetaSpliceAI's base-model pass (TP/FP/FN/TN tables, top-k, PR-AUC)")
    .requiredOption('--model <adapter>', 'the base model family (adapter id), e.g. spliceai or openspliceai')
    .option('--set <name>', 'the model set, when several share a context (e.g. openspliceai-mane)')
    .option('--context <n>', 'the context window in nt (default: the largest available)')
    .requiredOption('--fasta <file>', 'the genome (plain or bgzip with .fai/.gzi); genes are read with their real flanks')
    .requiredOption('--annotation <file>', 'genes and transcripts: GTF, GFF3 or a SpliceAI annotation table')
    .option('--genes <ids>', 'only these genes (ids, with or without version, or names; comma-separated)')
    .option('--genes-file <file>', 'only the genes listed in this file (one id or name per line)')
    .option('--chromosomes <list>', 'only genes on these contigs (comma-separated; chr prefix optional)')
    .option('--biotype <list>', 'only genes of these biotypes (comma-separated), e.g. protein_coding')
    .option('--transcripts <which>', 'annotated sites from all transcripts or the canonical one', 'canonical')
    .option('--threshold <p>', 'a call is a position scoring at least this', String(EVALUATE_DEFAULTS.threshold))
    .option('--window <n>', 'a site and a call match within +-n bases', String(EVALUATE_DEFAULTS.window))
    .option('--error-window <n>', 'half-width of the window written with each FP/FN', String(EVALUATE_DEFAULTS.errorWindow))
    .option('--tn-sample <x>', 'TN rows per gene: a factor of TP+FP+FN, all, or none', String(EVALUATE_DEFAULTS.tnSample))
    .option('--seed <n>', 'seed of the TN sample', String(EVALUATE_DEFAULTS.seed))
    .option('--nucleotide-scores', 'also write every evaluated base’s scores (nucleotide_scores)')
    .option('--format <format>', 'tables as tsv or parquet', 'tsv')
    .requiredOption('--output-dir <dir>', 'where the tables, the metrics and the chunks go')
    .option('--force', 'redo chunks a previous run finished')
    .option('--chunk-genes <n>', `genes per chunk (default ${EVALUATE_DEFAULTS.chunkGenes})`)
    .option('--genomic-build <name>', 'written in gene_manifest (e.g. GRCh38)')
    .option('--backend <name>', 'runtime backend (e.g. onnx, tfjs, auto)')
    .option('--device <device>', 'cpu or gpu')
    .option('--threads <n>', 'CPU threads for the runtime (default: all cores)')
    .option('--tile-size <n>', 'output positions per model window (default 40000)')
    .option('--batch-size <n>', 'windows per model call')
    .option('--models-dir <dir>', 'the models folder (default: data/models, metaspliceai.config.json, or $METASPLICEAI_MODELS_DIR)')
    .option('--adapter <module...>', 'also register a third-party adapter (package name or path)')
    .option('--strict', 'refuse model files that differ from their model_info.json (size, sha256) instead of warning')
    .option('--quiet', 'no progress bar and no notes on stderr')
    .addHelpText(
      'after',
      `
Writes to --output-dir: splice_positions_enhanced, splice_errors, gene_manifest (and
nucleotide_scores) as .tsv or .parquet, and evaluation_metrics.json. A rerun with the same
settings skips the chunks (chunks/) a killed run finished; --force redoes them.

Examples:
  metaspliceai evaluate --model openspliceai --set openspliceai-mane --context 10000 \\
    --fasta GRCh38.fa --annotation gencode.gtf --chromosomes 21 --biotype protein_coding --output-dir eval21
  metaspliceai evaluate --model spliceai --fasta hg19.fa --annotation grch37.txt --genes TUBB8 --format parquet --output-dir tubb8`,
    )
    .action((opts: EvaluateOptions) => run(() => evaluate(opts, io)));

  program
    .command('evaluate-merge')
    .description('merge evaluate runs over parts of a genome (e.g. one per chromosome) into the tables and metrics of one run')
    .argument('<dirs...>', 'the --output-dir of each finished evaluate run')
    .requiredOption('--output-dir <dir>', 'where the merged tables and evaluation_metrics.json go')
    .option('--format <format>', 'tables as tsv or parquet', 'tsv')
    .option('--quiet', 'no summary on stderr')
    .action((dirs: string[], opts: { outputDir: string; format: string; quiet?: boolean }) =>
      run(async () => {
        const { format } = parseFlags(evaluateFlags.pick({ format: true }), { format: opts.format.toLowerCase() }, EVALUATE_FLAGS);
        const outputDir = resolve(io.cwd, opts.outputDir);
        await fs.mkdir(outputDir, { recursive: true });
        const merged = await mergeEvaluations(
          dirs.map((d) => resolve(io.cwd, d)),
          { outputDir, format },
        );
        if (!opts.quiet) writeLine(io.stderr, `merged ${dirs.length} runs (${merged.genes} genes) -> ${opts.outputDir}`);
        return 0;
      }),
    );
}

async function evaluate(opts: EvaluateOptions, io: CliIO): Promise<number> {
  const { threshold, window, errorWindow, seed, chunkGenes, transcripts } = parseFlags(
    evaluateFlags,
    {
      threshold: opts.threshold,
      window: opts.window,
      errorWindow: opts.errorWindow,
      seed: opts.seed,
      chunkGenes: opts.chunkGenes,
      transcripts: opts.transcripts,
      format: opts.format.toLowerCase(),
    },
    EVALUATE_FLAGS,
  );
  const format = opts.format.toLowerCase() as 'tsv' | 'parquet';
  const tnSample = parseTnSample(opts.tnSample);
  const modelOptions = inferenceFlags(opts);
  if (opts.genes && opts.genesFile) throw new InvalidArgumentError('give either --genes or --genes-file, not both');
  const list = (v: string | undefined) =>
    v
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const genes = opts.genesFile ? await readGenesFile(resolve(io.cwd, opts.genesFile), opts.genesFile) : list(opts.genes);

  const annotation = resolve(io.cwd, opts.annotation);
  await fs.access(annotation).catch(() => {
    throw new InputError(`--annotation ${opts.annotation}: no such file`, { hint: 'give a GTF, GFF3 or SpliceAI annotation table' });
  });
  const fasta = await openFasta(resolve(io.cwd, opts.fasta));
  const outputDir = resolve(io.cwd, opts.outputDir);
  await fs.mkdir(outputDir, { recursive: true }).catch((cause: NodeJS.ErrnoException) => {
    throw new InvalidArgumentError(`--output-dir ${opts.outputDir}: cannot create it (${cause.code ?? cause.message})`, { cause });
  });

  const progress = createProgress(io, { label: 'evaluate', unit: 'nt', quiet: opts.quiet });
  const note = (line: string) => {
    if (!opts.quiet) progress.log(line);
  };
  const manager = await managerFor(opts, io, { onWarning: (line) => progress.log(`warning: ${line}`) });
  const inference = new SequenceInference({ models: manager, baseModelType: opts.model, setName: opts.set, backend: opts.backend, ...modelOptions });
  try {
    const model = await inference.load();
    const set = inference.set!;
    note(modelNote(set, model, inference.license));
    const members = [];
    for (const m of set.members) members.push({ file: m.relativePath, sha256: await sha256File(m.path) });
    let genesTotal = 0;
    let genesDone = 0;
    const summary = await runEvaluation({
      fasta,
      annotation,
      inference,
      outputDir,
      format,
      genes,
      chromosomes: list(opts.chromosomes),
      biotypes: list(opts.biotype),
      transcripts,
      threshold,
      window,
      errorWindow,
      tnSample,
      seed,
      nucleotideScores: !!opts.nucleotideScores,
      force: !!opts.force,
      chunkGenes,
      genomicBuild: opts.genomicBuild,
      baseModel: modelSetKey(set),
      model: { adapter: set.adapter, set: set.name, context: set.context, backend: model.backend, license: inference.license ?? null, members },
      onTotal: (g, bases) => {
        genesTotal = g;
        progress.setLabel(`evaluate 0/${g} genes`);
        progress.setTotal(bases);
      },
      onGene: (bases) => {
        progress.setLabel(`evaluate ${++genesDone}/${genesTotal} genes`);
        progress.advance(bases);
      },
      onNote: note,
    });
    progress.finish();
    if (!opts.quiet) {
      const m = summary.metrics;
      const f = (x: number | null) => (x === null ? '-' : x.toFixed(4));
      writeLine(
        io.stderr,
        `evaluated ${summary.genes} gene${summary.genes === 1 ? '' : 's'} in ${summary.chunks} chunk${summary.chunks === 1 ? '' : 's'} (${summary.skippedChunks} already done) -> ${opts.outputDir}`,
      );
      for (const type of ['acceptor', 'donor'] as const) {
        writeLine(
          io.stderr,
          `${type}: sites ${m[type].sites}, top-k ${f(m[type].top_k_accuracy)}, PR-AUC ${f(m[type].pr_auc)}, precision ${f(m[type].precision)}, recall ${f(m[type].recall)}, F1 ${f(m[type].f1)}`,
        );
      }
    }
    return 0;
  } finally {
    progress.finish({ summary: false });
    await inference.dispose();
  }
}

const evaluateFlags = optionsObject({
  threshold: probability(),
  window: wholeNumber({ min: 0 }),
  errorWindow: wholeNumber({ min: 0 }),
  seed: wholeNumber(),
  chunkGenes: wholeNumber({ min: 1 }).optional(),
  transcripts: oneOf(['all', 'canonical']),
  format: oneOf(['tsv', 'parquet']),
});
const EVALUATE_FLAGS = {
  threshold: '--threshold',
  window: '--window',
  errorWindow: '--error-window',
  seed: '--seed',
  chunkGenes: '--chunk-genes',
  transcripts: '--transcripts',
  format: '--format',
};

/** A factor or a keyword: checked by hand, as one union message reads better than zod's. */
function parseTnSample(value: string): TnSample {
  if (value === 'all' || value === 'none') return value;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError(`--tn-sample takes a factor of TP+FP+FN (e.g. 1.2), all or none, got "${value}"`);
  return n;
}

/** One gene id or name per line (the first field); blank lines and `#` comments are skipped. */
async function readGenesFile(path: string, shown: string): Promise<string[]> {
  const text = await fs.readFile(path, 'utf8').catch((cause: NodeJS.ErrnoException) => {
    throw new InputError(`--genes-file ${shown}: cannot read it (${cause.code ?? cause.message})`, { cause });
  });
  const ids = text
    .split('\n')
    .map((l) => l.trim().split(/[\s,]+/)[0])
    .filter((l) => l && !l.startsWith('#'));
  if (ids.length === 0) throw new InputError(`--genes-file ${shown}: no gene ids in it`, { hint: 'list one gene id or name per line' });
  return ids;
}
