import { promises as fs } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import {
  InputError,
  InvalidArgumentError,
  type LoadedModelSet,
  modelSetKey,
  oneOf,
  optionsObject,
  parseFlags,
  sha256File,
  wholeNumber,
} from '@metaspliceai/core';
import {
  annotateVcf,
  type AnnotateVcfSummary,
  type LoadedAnnotation,
  checkRuleTracks,
  loadAnnotation,
  type LoadedPangolinGenes,
  loadPangolinGenes,
  openFasta,
  PANGOLIN_RULE,
  PangolinScorer,
  pangolinScorerOptionsSchema,
  rawEntryScorer,
  readTextLines,
  type RecordScorer,
  SCORING_RULES,
  scoringRule,
  UNSCORED_LABELS,
  type UnscoredReason,
  VariantScorer,
  variantScorerOptionsSchema,
} from '@metaspliceai/genomics';
import { defaultModel, type GlobalOptions, managerFor, modelFlags, modelNote } from '../context.js';
import { type CliIO, writeLine } from '../output/io.js';
import { createProgress } from '../output/progress.js';
import { checkOutputFile, type OutputFile, openOutputFile } from '../output/output-file.js';

interface ScoreOptions extends GlobalOptions {
  input?: string;
  output?: string;
  reference?: string;
  annotation?: string;
  distance?: string;
  mask?: string;
  rule?: string;
  scoreCutoff?: string;
  model?: string;
  set?: string;
  context?: string;
  backend?: string;
  device?: string;
  threads?: string;
  batchSize?: string;
  precision?: string;
  raw?: boolean;
  transcripts?: string;
  dataDir?: string;
  strict?: boolean;
  checksums: boolean;
  shareReference: boolean;
}

/**
 * Exit code when the run finished, every record was written, and some were skipped for a problem
 * in the input (a malformed line, a REF that disagrees with the reference, a contig the reference
 * lacks) — or, with --strict, for any reason. Distinct from 1 (the run failed).
 */
export const EXIT_UNSCORED = 3;

/**
 * The reasons that point at a problem in the input (POS 0 or past the contig's end included). The others (outside genes, near a contig end,
 * a deletion longer than 2*dist, no scorable ALT) are SpliceAI's ordinary "no score" cases.
 */
const INPUT_PROBLEMS = ['malformed', 'ref-mismatch', 'contig-missing', 'invalid-position'] as const;

/**
 * `metaspliceai score`: SpliceAI's `spliceai -I -O -R -A -D -M` with any registered base model, or
 * another scoring rule (`--rule`, default the family's: Pangolin's own for Pangolin). The VCF comes
 * back whole and in order; scored records gain the rule's INFO key (`SpliceAI=`, `Pangolin=`).
 */
export function registerScoreCommand(program: Command, io: CliIO, run: (fn: () => Promise<number>) => Promise<void>): void {
  program
    .command('score')
    .description("add variant scores to a VCF: SpliceAI delta scores (acceptor/donor gain/loss) with any base model, or another family's own rule (--rule)")
    .option('-I, --input <vcf>', 'the input VCF, plain, gzip or bgzip (default: stdin)')
    .option('-O, --output <vcf>', 'the output VCF; bgzip when it ends in .gz or .bgz (default: stdout)')
    .option('-R, --reference <fasta>', 'the genome FASTA (plain or bgzip with .fai/.gzi)')
    .option('-A, --annotation <annotation>', 'grch37, grch38 (tables in <data>/annotations/), a SpliceAI annotation table, or a GTF/GFF3 file')
    .option('-D, --distance <n>', 'the largest distance between the variant and a gained or lost site, 0 to 4999 (default 50)')
    .option('-M, --mask <0|1>', '1: mask gains at annotated sites and losses elsewhere (default 0 for the spliceai rule, 1 for pangolin, as upstream)')
    .option('--rule <name>', `the scoring rule: ${SCORING_RULES.map((r) => r.name).join(', ')} (default: the model family's own)`)
    .option('-s, --score-cutoff <x>', 'pangolin rule: every position with a gain >= x or a loss <= -x, instead of the largest (upstream -s)')
    .option(
      '--model <adapter>',
      'the base model family (adapter id), e.g. spliceai or openspliceai (default: defaultModel in metaspliceai.config.json, else the first adapter registered: spliceai when installed)',
    )
    .option('--set <name>', 'the model set, when several share a context (e.g. openspliceai-mane)')
    .option('--context <n>', 'the context window in nt (default: the largest available); the window is context + 2*D + 1')
    .option('--precision <n>', 'spliceai rule: decimals of the delta scores, as OpenSpliceAI --precision (default 2)')
    .option(
      '--raw',
      'spliceai rule: also write the REF and ALT probabilities at each delta position, in the bw2/SpliceAI fork layout ALLELE|NAME|STRAND|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL|DS_AG_REF|DS_AG_ALT|DS_AL_REF|DS_AL_ALT|DS_DG_REF|DS_DG_ALT|DS_DL_REF|DS_DL_ALT',
    )
    .option('--batch-size <n>', "model windows per call (default 4; cones 2, or 1 for Pangolin's rule)")
    .option('--backend <name>', 'runtime backend (e.g. onnx, tfjs, auto)')
    .option('--device <device>', 'cpu or gpu')
    .option('--threads <n>', 'CPU threads for the runtime (default: all cores)')
    .option('--transcripts <which>', 'spliceai rule with a GTF/GFF3 -A: canonical (one per gene, the default) or all')
    .option('--data-dir <dir>', 'the data folder holding annotations/grch37.txt and grch38.txt (default: data, or $METASPLICEAI_DATA_DIR)')
    .option(
      '--strict',
      `exit ${EXIT_UNSCORED} when any record is written without a score, whatever the reason; and refuse (exit 1) model files that differ from their model_info.json instead of warning`,
    )
    .option('--no-checksums', 'leave the sha256 of the model, reference and annotation files out of the header')
    .option(
      '--no-share-reference',
      'run every window whole, as SpliceAI does: no shared reference pass, no recomputing only what a variant changes (same numbers, slower)',
    )
    .option('--models-dir <dir>', 'the models folder (default: data/models, metaspliceai.config.json, or $METASPLICEAI_MODELS_DIR)')
    .option('--adapter <module...>', 'also register a third-party adapter (package name or path)')
    .option('--quiet', 'no progress bar, notes or summary on stderr (warnings about records stay)')
    .addHelpText(
      'after',
      `
Every input line is written, in order, unchanged but for the SpliceAI INFO field of scored records:
ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL, one entry per ALT and gene.
Records outside genes, within context/2 + D of a contig end, with a REF that differs from -R, with
REF longer than 2*D, or with only symbolic ALTs get no score and one warning each on stderr; a
summary counts them. Exit 0 when every record was scored or had one of SpliceAI's ordinary reasons
not to be; ${EXIT_UNSCORED} when a record was skipped for a problem in the input (malformed, REF
mismatch, unknown contig, POS 0 or past the contig's end; with --strict: for any reason); 1 on
failure; 2 on bad usage. ALTs with IUPAC codes (R, Y, ...) are not scored (one warning each), and
a SpliceAI= entry from an earlier run is replaced, or removed from a record that gets no score.
A model file whose size or sha256 differs from its model_info.json gives one warning (with
--strict the run stops before scoring, exit 1); members model_info.json lists that are missing
are always refused.

Rules (--rule; a model must have the tracks a rule reads, else exit 2):
${SCORING_RULES.map((r) => `  ${r.name}: ${r.summary}`).join('\n')}
The pangolin rule writes Pangolin=gene|pos:gain|pos:loss|Warnings: per gene (',' between genes), as
upstream pangolin.py: -A must be a GTF/GFF3 with Ensembl_canonical tags, -D is its -d, -M its -m
(default 1), -s its cutoff mode; skipped records keep their line and get upstream's warning.

Examples:
  metaspliceai score -I input.vcf -O output.vcf -R hg19.fa -A grch37
  metaspliceai score -I in.vcf.gz -O out.vcf.gz -R hg38.fa -A gencode.v44.annotation.gtf.gz -D 500 -M 1
  metaspliceai score --model openspliceai --context 2000 -R hg38.fa -A MANE.GRCh38.gff.gz < in.vcf > out.vcf
  metaspliceai score --model pangolin -R hg19.fa -A gencode.v38lift37.annotation.gtf.gz -I in.vcf -O out.vcf`,
    )
    .action((opts: ScoreOptions) => run(() => score(opts, io)));
}

/** -D stays within SpliceAI's own 0..4999 (its command line refuses more); the library and `serve` go to 10000. */
const SPLICEAI_CLI_MAX_DISTANCE = 4999;
const scorerFlags = variantScorerOptionsSchema
  .pick({ precision: true, batchSize: true })
  .extend({ dist: wholeNumber({ min: 0, max: SPLICEAI_CLI_MAX_DISTANCE }).optional() });
const SCORER_FLAGS = { dist: '-D', precision: '--precision', batchSize: '--batch-size' };
/** -s is PangolinScorer's cutoff; -M (0/1 for the scorers' boolean mask) and --transcripts are the CLI's own. */
const scoreFlags = optionsObject({
  mask: wholeNumber({ min: 0, max: 1 }).optional(),
  cutoff: pangolinScorerOptionsSchema.shape.cutoff,
  transcripts: oneOf(['canonical', 'all']).optional(),
});
const SCORE_FLAGS = { mask: '-M', cutoff: '-s', transcripts: '--transcripts' };

async function score(opts: ScoreOptions, io: CliIO): Promise<number> {
  // Arguments first, so a typo costs nothing.
  if (!opts.reference) throw new InvalidArgumentError('-R (the genome FASTA) is required');
  if (!opts.annotation) throw new InvalidArgumentError('-A is required: grch37, grch38, a SpliceAI annotation table, or a GTF/GFF3 file');
  // Each flag through the schema of the option it becomes (VariantScorer's, the manager's load).
  const scorer = parseFlags(scorerFlags, { dist: opts.distance ?? '50', precision: opts.precision ?? '2', batchSize: opts.batchSize }, SCORER_FLAGS);
  const dist = scorer.dist!;
  const precision = scorer.precision!;
  const batchSize = scorer.batchSize;
  const { cutoff, transcripts } = parseFlags(scoreFlags, { cutoff: opts.scoreCutoff, transcripts: opts.transcripts ?? 'canonical' }, SCORE_FLAGS);
  const { context, threads, device } = modelFlags(opts);
  const inputPath = opts.input && opts.input !== '-' ? resolve(io.cwd, opts.input) : undefined;
  const outputPath = opts.output && opts.output !== '-' ? resolve(io.cwd, opts.output) : undefined;
  if (inputPath) {
    await fs.access(inputPath).catch((cause: NodeJS.ErrnoException) => {
      throw new InputError(`${opts.input}: cannot read the input VCF (${cause.code ?? cause.message})`, { cause });
    });
  } else if ((io.stdin as { isTTY?: boolean }).isTTY) {
    throw new InvalidArgumentError('no input: give -I <vcf> or pipe a VCF on stdin');
  }

  const progress = createProgress(io, { label: 'score', unit: 'variants', quiet: opts.quiet });
  const note = (line: string) => {
    if (!opts.quiet) progress.log(line);
  };
  // The rule before any file: the family's default, or --rule; which options it takes.
  const manager = await managerFor(opts, io, { onWarning: (w) => progress.log(`warning: ${w}`) });
  const adapter = opts.model ?? defaultModel(manager, io);
  const family = manager.adapter(adapter);
  const rule = scoringRule(opts.rule ?? family.scoring.defaultRule);
  const pangolin = rule === PANGOLIN_RULE;
  const { mask } = parseFlags(scoreFlags, { mask: opts.mask ?? (pangolin ? '1' : '0') }, SCORE_FLAGS);
  if (pangolin && opts.precision !== undefined)
    throw new InvalidArgumentError('--precision applies to the spliceai rule; the pangolin rule prints numbers as upstream does');
  if (pangolin && opts.transcripts !== undefined)
    throw new InvalidArgumentError(
      '--transcripts applies to the spliceai rule; the pangolin rule reads every gene of -A and the exons of its Ensembl_canonical transcripts',
    );
  if (!pangolin && cutoff !== undefined) throw new InvalidArgumentError(`-s applies to the pangolin rule, not ${rule.name}`);
  if (pangolin && opts.raw)
    throw new InvalidArgumentError('--raw applies to the spliceai rule (REF and ALT acceptor/donor probabilities); the pangolin rule writes its own fields');

  if (dist === 0) note('note: with -D 0 every record is skipped, as in SpliceAI (REF is always longer than 2*D)');

  // Inputs before the model: a missing file fails in a second, not after loading weights.
  const fasta = await openFasta(resolve(io.cwd, opts.reference));
  const annotation: Annotation = pangolin
    ? await loadPangolinGenes(opts.annotation, { cwd: io.cwd, onWarning: (w) => note(`warning: ${w}`) })
    : await loadAnnotation(opts.annotation, {
        cwd: io.cwd,
        dataDir: opts.dataDir,
        env: io.env,
        transcripts,
        onWarning: (w) => note(`warning: ${w}`),
      });
  if ('stats' in annotation && annotation.stats)
    note(`annotation: ${annotation.stats.rows} transcripts of ${annotation.stats.genes} genes compiled from ${basename(annotation.path)}`);
  if ('genes' in annotation) note(`annotation: ${annotation.genes.count} gene${annotation.genes.count === 1 ? '' : 's'} from ${basename(annotation.path)}`);
  // The output before the model too: never one of the inputs, in an existing, writable folder.
  if (outputPath) {
    await checkOutputFile({ flag: '-O', name: opts.output!, path: outputPath }, [
      inputPath ? { flag: '-I', name: opts.input!, path: inputPath } : undefined,
      { flag: '-R', name: opts.reference, path: fasta.path },
      { flag: '-A', name: opts.annotation, path: annotation.path },
    ]);
  }

  // Only the rule's tracks: an adapter may then run fewer networks (Pangolin: 12 of 24).
  const loaded = await manager.load({ adapter, setName: opts.set, context, backend: opts.backend, device, threads, tracks: rule.tracks });
  let out: Writable = io.stdout;
  let file: OutputFile | undefined; // appears under -O only once the run succeeded
  const ignore = () => {};
  try {
    const set = loaded.set;
    note(modelNote(set, loaded.model, loaded.license));
    checkRuleTracks(rule, loaded.model.tracks, `model ${modelSetKey(set)}`);
    const encoding = family.scoring.variantEncoding;
    const scorer: Scorer =
      'genes' in annotation
        ? new PangolinScorer({
            model: loaded.model,
            fasta,
            genes: annotation.genes,
            dist,
            mask: mask === 1,
            cutoff,
            encoding,
            batchSize,
            recomputeChangesOnly: opts.shareReference,
          })
        : new VariantScorer({
            model: loaded.model,
            fasta,
            annotation: annotation.table,
            dist,
            mask: mask === 1,
            encoding,
            precision,
            batchSize,
            shareReference: opts.shareReference,
            keepRows: opts.raw === true,
          });
    const headerLines = await provenance(opts, { loaded, annotation, reference: fasta.path, scorer, checksums: opts.checksums });
    if (inputPath) progress.setTotal(await countRecords(inputPath));

    if (outputPath) {
      file = await openOutputFile(outputPath, { bgzip: /\.b?gz$/i.test(outputPath) });
      out = file.stream;
    }
    out.on('error', ignore);
    let written = 0;
    let summary: AnnotateVcfSummary;
    try {
      summary = await annotateVcf({
        scorer: opts.raw && scorer instanceof VariantScorer ? rawEntryScorer(scorer) : scorer,
        input: inputPath ?? (io.stdin as AsyncIterable<Uint8Array>),
        inputName: opts.input && opts.input !== '-' ? opts.input : 'stdin',
        output: out,
        headerLines,
        onWarning: (w) => progress.log(`warning: ${w.message}`),
        onInputWarning: (message) => progress.log(`warning: ${message}`),
        onProgress: ({ records }) => {
          if (records > written) progress.advance(records - written);
          written = Math.max(written, records);
        },
      });
    } catch (error) {
      if (!file && (error as NodeJS.ErrnoException).code === 'EPIPE') return 0; // the reader left (| head): not a failure
      throw file ? file.failure(error) : error;
    }
    await file?.commit();
    file = undefined;
    progress.finish({ summary: false });
    if (!opts.quiet) writeLine(io.stderr, summaryLine(summary));
    const problems = INPUT_PROBLEMS.reduce((n, reason) => n + summary.unscored[reason], 0);
    const unscored = summary.records - summary.scored;
    return problems > 0 || (opts.strict && unscored > 0) ? EXIT_UNSCORED : 0;
  } finally {
    progress.finish({ summary: false });
    await file?.abort(); // a failed run: no file under -O, an earlier one untouched
    out.off('error', ignore);
    await loaded.dispose();
  }
}

/** `##metaspliceai_*` lines: what produced the scores, so a result can be traced and reproduced. */
async function provenance(
  opts: ScoreOptions,
  run: { loaded: LoadedModelSet; annotation: Annotation; reference: string; scorer: Scorer; checksums: boolean },
): Promise<string[]> {
  const { loaded, annotation, scorer } = run;
  const set = loaded.set;
  const members: string[] = [];
  for (const m of set.members) {
    // Members model_info.json lists were hashed (and checked) while loading: only others are hashed here.
    const sha = run.checksums ? (loaded.sha256.get(m.path) ?? (await sha256File(m.path))) : undefined;
    members.push(sha ? `${basename(m.path)}:sha256:${sha}` : basename(m.path));
  }
  const referenceSha = run.checksums ? `;sha256=${await sha256File(run.reference)}` : '';
  const annotationSha = run.checksums ? `;sha256=${annotation.sha256}` : '';
  const clean = (s: string) => s.replace(/[\t\r\n]/g, ' ');
  const count = 'genes' in annotation ? `genes=${annotation.genes.count}` : `transcripts=${annotation.table.rows.length}`;
  // The rule is named when it is not the family's default (the spliceai lines stay as they were).
  const rule = opts.rule ? ` --rule ${clean(opts.rule)}` : '';
  const ruleOptions =
    scorer instanceof PangolinScorer
      ? `${rule}${scorer.cutoff !== undefined ? ` -s ${scorer.cutoff}` : ''}`
      : `${rule} --precision ${scorer.precision}${opts.raw ? ' --raw' : ''}`;
  const parameters =
    scorer instanceof PangolinScorer
      ? `rule=pangolin;dist=${scorer.dist};mask=${scorer.mask ? 1 : 0};window=${scorer.model.context + 2 * scorer.dist}+len(REF);${scorer.cutoff !== undefined ? `cutoff=${scorer.cutoff};` : ''}encoding=${scorer.encoding}`
      : `dist=${scorer.dist};mask=${scorer.mask ? 1 : 0};window=${scorer.window};precision=${scorer.precision};encoding=${scorer.encoding}`;
  return [
    `##metaspliceai_scoreCommand=score -D ${scorer.dist} -M ${scorer.mask ? 1 : 0} --model ${set.adapter}${ruleOptions}${opts.set ? ` --set ${clean(opts.set)}` : ''}${opts.context ? ` --context ${opts.context}` : ''} -R ${clean(basename(run.reference))} -A ${clean(annotation.spec)}`,
    `##metaspliceai_model=adapter=${set.adapter};set=${clean(set.name)};context=${set.context};members=${members.join(',')}${loaded.license ? `;license=${clean(loaded.license)}` : ''}`,
    `##metaspliceai_reference=file=${clean(basename(run.reference))}${referenceSha}`,
    `##metaspliceai_annotation=source=${clean(annotation.spec)};file=${clean(basename(annotation.path))};format=${annotation.format};${count}${annotationSha}`,
    `##metaspliceai_parameters=${parameters}`,
  ];
}

/** What -A gave: a transcript table (spliceai rule) or genes with canonical exons (pangolin rule). */
type Annotation = LoadedAnnotation | LoadedPangolinGenes;
type Scorer = (VariantScorer | PangolinScorer) & RecordScorer;

/** Record lines of a VCF file, for the progress bar's total. */
async function countRecords(path: string): Promise<number> {
  let n = 0;
  for await (const line of readTextLines(path, path)) if (line.text && !line.text.startsWith('#')) n++;
  return n;
}

function summaryLine(s: AnnotateVcfSummary): string {
  const unscored = (Object.entries(s.unscored) as [UnscoredReason, number][]).filter(([, n]) => n > 0).map(([r, n]) => `${n} ${UNSCORED_LABELS[r]}`);
  const rate = s.seconds > 0 ? s.records / s.seconds : 0;
  return (
    `score: ${s.records} record${s.records === 1 ? '' : 's'}, ${s.scored} scored (${s.entries} entr${s.entries === 1 ? 'y' : 'ies'})` +
    (unscored.length ? `, ${s.records - s.scored} not scored: ${unscored.join(', ')}` : '') +
    `; ${s.seconds.toFixed(1)} s, ${rate >= 10 ? Math.round(rate) : rate.toFixed(2)} variants/s`
  );
}
