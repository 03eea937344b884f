import { createWriteStream, existsSync, promises as fs, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type LoadedModel, parseOptions, sha256File } from '@metaspliceai/core';
import { evaluateOptionsSchema } from './options.js';
import { readAnnotation } from '../annotations/gff.js';
import type { GeneModel } from '../annotations/gene-model.js';
import { sniffAnnotationFormat } from '../annotations/source.js';
import { readAnnotationTable } from '../annotations/table.js';
import type { FastaReader } from '../io/fasta.js';
import type { SequenceInference } from '../inference/sequence-inference.js';
import { fastaRegionInput, type SequenceInput } from '../inference/sequence-input.js';
import { isAtomicTempName, moveIntoPlace, tempPathBeside, writeFileAtomic } from './atomic.js';
import { type GeneSelectionOptions, geneModelFromTable, type SelectedGene, selectGenes } from './genes.js';
import { checkLabelOptions, type GeneScores, genomicPosition, type LabelOptions, labelGene, relativePosition, type SiteCounts } from './labels.js';
import type { SiteTypeMetrics } from './metrics.js';
import { type ChunkRecord, chunkPartPath, type PartName, chunkRankPath, type RunRecord, writeEvaluationOutputs } from './outputs.js';
import { clusterGenes, clusterOffset, type GeneCluster } from './clusters.js';
import { ChunkRanking } from './ranking.js';
import { annotatedSites, SITE_TYPES, type SiteType } from './sites.js';
import { ERRORS_TABLE, MANIFEST_TABLE, NUCLEOTIDES_TABLE, POSITIONS_TABLE, type TableFormat, tsvLine } from './tables.js';

/** A manifest status, as MetaSpliceAI's `gene_manifest` spells it. */
export type GeneStatus = 'processed' | 'not_in_annotation' | 'no_sequence' | 'sequence_too_short' | 'prediction_failed';

export interface EvaluateOptions extends GeneSelectionOptions, Partial<LabelOptions> {
  /** The genome the genes are read from (real flanks; N only beyond contig ends). */
  fasta: FastaReader;
  /** A GTF, GFF3 or SpliceAI annotation table. */
  annotation: string;
  /** Inference set up with the model to judge (loaded on first use). */
  inference: SequenceInference;
  outputDir: string;
  format?: TableFormat;
  /** Also write every evaluated base's scores (`nucleotide_scores`). */
  nucleotideScores?: boolean;
  /** Redo finished chunks instead of skipping them. */
  force?: boolean;
  /** Genes per chunk (default 50) and bases per chunk (default 5,000,000; a longer gene is a chunk alone). */
  chunkGenes?: number;
  chunkBases?: number;
  /** What the metrics JSON says about the model (set, context, sha256s...) and its name in the manifest. */
  model?: Record<string, unknown>;
  baseModel?: string;
  genomicBuild?: string;
  /** Progress: total genes and bases once known, then each gene as it is done (or skipped as finished). */
  onTotal?: (genes: number, bases: number) => void;
  onGene?: (bases: number) => void;
  /** Notes such as "chunk chr1-0001 already done". */
  onNote?: (line: string) => void;
  /** The clock for `timestamp` (tests pass a fixed one). */
  now?: () => Date;
}

/** What a run wrote and its metrics. */
export interface EvaluationSummary {
  outputDir: string;
  files: string[];
  genes: number;
  chunks: number;
  skippedChunks: number;
  metrics: Record<SiteType, SiteTypeMetrics>;
}

/** The defaults of MetaSpliceAI's base-model pass. */
export const EVALUATE_DEFAULTS = { threshold: 0.5, window: 2, errorWindow: 500, tnSample: 1.2, seed: 42, chunkGenes: 50, chunkBases: 5_000_000 } as const;

interface Chunk {
  id: string;
  chrom: string;
  chromIndex: number;
  genes: SelectedGene[];
  bases: number;
}

/**
 * The MetaSpliceAI base-model pass: predicts every selected gene with its real flanking sequence
 * on its own strand, labels positions against the annotated sites, and writes MetaSpliceAI's
 * tables and pooled metrics. Work goes by contig in chunks of genes; each chunk's files appear
 * atomically with a record of the settings that made them, so a rerun skips finished chunks
 * (`force` redoes them) and the final tables are the chunks concatenated in order.
 */
export async function runEvaluation(options: EvaluateOptions): Promise<EvaluationSummary> {
  parseOptions(evaluateOptionsSchema, options, { owner: 'runEvaluation' });
  const label: LabelOptions = {
    threshold: options.threshold ?? EVALUATE_DEFAULTS.threshold,
    window: options.window ?? EVALUATE_DEFAULTS.window,
    errorWindow: options.errorWindow ?? EVALUATE_DEFAULTS.errorWindow,
    tnSample: options.tnSample ?? EVALUATE_DEFAULTS.tnSample,
    seed: options.seed ?? EVALUATE_DEFAULTS.seed,
  };
  checkLabelOptions(label);
  const chunkGenes = options.chunkGenes ?? EVALUATE_DEFAULTS.chunkGenes;
  const chunkBases = options.chunkBases ?? EVALUATE_DEFAULTS.chunkBases;
  const format = options.format ?? 'tsv';
  const now = options.now ?? (() => new Date());

  const annotationFormat = await sniffAnnotationFormat(options.annotation);
  const model: Pick<GeneModel, 'genes' | 'chroms'> =
    annotationFormat === 'table'
      ? geneModelFromTable(await readAnnotationTable(options.annotation))
      : await readAnnotation(options.annotation, { format: annotationFormat });
  const selection = selectGenes(model, options);
  const annotationSha = await sha256File(options.annotation);

  const chunks = await planChunks(selection.genes, selection.chroms, chunkGenes, chunkBases);
  const chunkDir = join(options.outputDir, 'chunks');
  await fs.mkdir(chunkDir, { recursive: true });
  // A killed run leaves its unfinished chunk's temp files behind; they are never reused.
  for (const name of await fs.readdir(chunkDir)) {
    if (isAtomicTempName(name)) await fs.rm(join(chunkDir, name), { force: true });
  }
  options.onTotal?.(
    selection.genes.length,
    chunks.reduce((n, c) => n + c.bases, 0),
  );

  const loaded = await options.inference.load();
  const tracks = trackLayout(loaded);
  const baseModel = options.baseModel ?? String(options.model?.set ?? 'model');
  const settings = {
    version: 1,
    model: options.model ?? null,
    annotation: annotationSha,
    transcripts: options.transcripts ?? 'canonical',
    ...label,
    nucleotideScores: !!options.nucleotideScores,
  };

  const records: ChunkRecord[] = [];
  let skipped = 0;
  for (const chunk of chunks) {
    const fingerprint = JSON.stringify({ ...settings, genes: chunk.genes.map((g) => g.gene.id) });
    const done = join(chunkDir, `${chunk.id}.done.json`);
    if (!options.force && existsSync(done)) {
      const record = JSON.parse(await fs.readFile(done, 'utf8')) as ChunkRecord;
      if (record.fingerprint === fingerprint && (await partsExist(chunkDir, chunk.id, !!options.nucleotideScores))) {
        records.push(record);
        skipped++;
        options.onNote?.(`chunk ${chunk.id} already done (${chunk.genes.length} genes): skipped`);
        for (const g of chunk.genes) options.onGene?.(g.gene.end - g.gene.start + 1);
        continue;
      }
    }
    await fs.rm(done, { force: true });
    const { counts, processed } = await runChunk(chunk, { ...options, label, tracks, baseModel, chunkDir, now, context: loaded.context });
    const record: ChunkRecord = { fingerprint, counts, genes: processed };
    await writeFileAtomic(done, `${JSON.stringify(record)}\n`);
    records.push(record);
  }

  // Requests with no gene to evaluate: their manifest rows come after the chunks'.
  const unmatchedPart = join(chunkDir, 'unmatched.manifest.tsv');
  const stamp = now().toISOString();
  await writeFileAtomic(
    unmatchedPart,
    selection.unmatched
      .map((u) =>
        tsvLine(MANIFEST_TABLE, {
          gene_id: u.gene?.id ?? u.requested,
          gene_name: u.gene?.name ?? '',
          requested: u.requested,
          status: 'not_in_annotation',
          reason: u.reason,
          num_positions: 0,
          num_nucleotides: 0,
          num_splice_sites: 0,
          processing_time_sec: 0,
          base_model: baseModel,
          genomic_build: options.genomicBuild ?? '',
          timestamp: stamp,
        }),
      )
      .join(''),
  );

  const report = {
    model: options.model ?? {},
    annotation: {
      path: options.annotation,
      format: annotationFormat,
      sha256: annotationSha,
      transcripts: settings.transcripts,
      genomic_build: options.genomicBuild ?? null,
    },
    threshold: label.threshold,
    window: label.window,
  };
  const run: RunRecord = { chunks: chunks.map((c) => ({ id: c.id, chromIndex: c.chromIndex })), nucleotideScores: !!options.nucleotideScores, report };
  await writeFileAtomic(join(chunkDir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
  const {
    files,
    genes: processed,
    metrics,
  } = await writeEvaluationOutputs({
    outputDir: options.outputDir,
    chunks: chunks.map((c) => ({ chunkDir, id: c.id, chromIndex: c.chromIndex })),
    unmatchedParts: [unmatchedPart],
    format,
    nucleotideScores: !!options.nucleotideScores,
    report,
  });
  return { outputDir: options.outputDir, files, genes: processed, chunks: chunks.length, skippedChunks: skipped, metrics };
}

/** Where a model's acceptor, donor and neither values sit in its rows (by track name where declared). */
export function trackLayout(model: LoadedModel): { width: number; acceptor: number; donor: number; neither: number } {
  const tracks = (model as { tracks?: readonly { name: string }[] }).tracks;
  if (!tracks) return { width: 3, neither: 0, acceptor: 1, donor: 2 };
  const find = (name: string) => tracks.findIndex((t) => t.name === name);
  const layout = { width: tracks.length, neither: find('neither'), acceptor: find('acceptor'), donor: find('donor') };
  if (layout.neither < 0 || layout.acceptor < 0 || layout.donor < 0) {
    throw new InvalidArgumentError(`evaluate needs a model with tracks neither, acceptor and donor; this one has ${tracks.map((t) => t.name).join(', ')}`, {
      hint: 'evaluate judges SpliceAI-shaped acceptor/donor calls; pick a SpliceAI or OpenSpliceAI model',
    });
  }
  return layout;
}

/** Contigs in annotation order, genes by start within each, cut into chunks of genes and bases. */
async function planChunks(genes: readonly SelectedGene[], chroms: readonly string[], maxGenes: number, maxBases: number): Promise<Chunk[]> {
  const byChrom = new Map<string, SelectedGene[]>();
  for (const g of genes) {
    const list = byChrom.get(g.gene.chrom) ?? [];
    list.push(g);
    byChrom.set(g.gene.chrom, list);
  }
  const order = [...chroms.filter((c) => byChrom.has(c)), ...[...byChrom.keys()].filter((c) => !chroms.includes(c))];
  const chunks: Chunk[] = [];
  for (const chrom of order) {
    const list = byChrom
      .get(chrom)!
      .sort((a, b) => a.gene.start - b.gene.start || a.gene.end - b.gene.end || (a.gene.id < b.gene.id ? -1 : a.gene.id > b.gene.id ? 1 : 0));
    let current: Chunk | undefined;
    for (const g of list) {
      const bases = g.gene.end - g.gene.start + 1;
      if (!current || current.genes.length >= maxGenes || (current.bases + bases > maxBases && current.genes.length > 0)) {
        current = {
          id: `${safeName(chrom)}-${String(chunks.filter((c) => c.chrom === chrom).length + 1).padStart(4, '0')}`,
          chrom,
          chromIndex: chroms.indexOf(chrom),
          genes: [],
          bases: 0,
        };
        chunks.push(current);
      }
      current.genes.push(g);
      current.bases += bases;
    }
  }
  return chunks;
}

const safeName = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, '_');

async function partsExist(dir: string, id: string, nucleotides: boolean): Promise<boolean> {
  const parts: PartName[] = ['positions', 'errors', 'manifest', ...(nucleotides ? (['nucleotides'] as const) : [])];
  const paths = [...parts.map((p) => chunkPartPath(dir, id, p)), chunkRankPath(dir, id, 'acceptor'), chunkRankPath(dir, id, 'donor')];
  return paths.every((p) => existsSync(p));
}

interface ChunkContext extends EvaluateOptions {
  label: LabelOptions;
  tracks: ReturnType<typeof trackLayout>;
  baseModel: string;
  chunkDir: string;
  now: () => Date;
  /** The model's context: genes closer than this share a prediction. */
  context: number;
}

/** One open part file, written under a temp name and renamed when the chunk is complete. */
class PartFile {
  readonly temp: string;
  private readonly stream: WriteStream;
  constructor(readonly path: string) {
    this.temp = tempPathBeside(path);
    this.stream = createWriteStream(this.temp);
  }
  async write(text: string): Promise<void> {
    if (!this.stream.write(text)) await new Promise<void>((resolve) => this.stream.once('drain', resolve));
  }
  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}

/** Predicts and labels one chunk's genes and writes its parts; returns its counts. */
async function runChunk(chunk: Chunk, ctx: ChunkContext): Promise<{ counts: Record<SiteType, SiteCounts>; processed: number }> {
  let processed = 0;
  const counts = Object.fromEntries(SITE_TYPES.map((t) => [t, { sites: 0, tp: 0, fp: 0, fn: 0 }])) as Record<SiteType, SiteCounts>;
  const rankings = { acceptor: new ChunkRanking(), donor: new ChunkRanking() };
  const parts: Partial<Record<PartName, PartFile>> = {};
  const names: PartName[] = ['positions', 'errors', 'manifest', ...(ctx.nucleotideScores ? (['nucleotides'] as const) : [])];
  for (const n of names) parts[n] = new PartFile(chunkPartPath(ctx.chunkDir, chunk.id, n));

  // Manifest rows are kept (one short line per gene) and written in gene order at the end.
  const manifestLines = new Map<SelectedGene, string>();
  const manifest = (g: SelectedGene, status: GeneStatus, reason: string, fields: { positions?: number; sites?: number; seconds?: number } = {}) =>
    manifestLines.set(
      g,
      tsvLine(MANIFEST_TABLE, {
        gene_id: g.gene.id,
        gene_name: g.gene.name,
        requested: g.requested,
        status,
        reason,
        num_positions: fields.positions ?? 0,
        num_nucleotides: g.gene.end - g.gene.start + 1,
        num_splice_sites: fields.sites ?? 0,
        processing_time_sec: Number((fields.seconds ?? 0).toFixed(3)),
        base_model: ctx.baseModel,
        genomic_build: ctx.genomicBuild ?? '',
        timestamp: ctx.now().toISOString(),
      }),
    );

  try {
    // Which genes the genome can give; the rest get their manifest row only.
    const problems = new Map<SelectedGene, [GeneStatus, string]>();
    const genes: SelectedGene[] = [];
    const contig = await ctx.fasta.resolveName(chunk.chrom);
    const size = contig === undefined ? undefined : await ctx.fasta.length(contig);
    for (const g of chunk.genes) {
      if (contig === undefined || size === undefined) problems.set(g, ['no_sequence', `no contig ${chunk.chrom} in ${ctx.fasta.path}`]);
      else if (g.gene.start < 1 || g.gene.end > size)
        problems.set(g, ['sequence_too_short', `${g.gene.chrom}:${g.gene.start}-${g.gene.end} reaches past the end of ${contig} (${size} bases)`]);
      else genes.push(g);
    }
    // Genes whose inputs overlap are predicted together (see clusterGenes), then written in gene order.
    const clusters = clusterGenes(genes, ctx.context);
    const inputs: SequenceInput[] = [];
    const byInput = new Map<SequenceInput, GeneCluster<SelectedGene>>();
    for (const c of clusters) {
      const input = await fastaRegionInput(
        ctx.fasta,
        { chrom: contig!, start: c.start, end: c.end },
        { strand: c.strand, name: c.genes.map((g) => g.gene.id).join(',') },
      );
      inputs.push(input);
      byInput.set(input, c);
    }

    const { tracks } = ctx;
    const finished = new Map<SelectedGene, { scores: GeneScores; seconds: number }>();
    let next = 0;
    let scores: GeneScores | undefined;
    let started = 0;
    for await (const event of ctx.inference.predict(inputs)) {
      const n = event.sequence.length;
      if (event.type === 'begin') {
        scores = { acceptor: new Float32Array(n), donor: new Float32Array(n), neither: new Float32Array(n) };
        started = performance.now();
      } else if (event.type === 'rows') {
        const p = event.probabilities;
        for (let i = 0; i < event.length; i++) {
          const o = i * tracks.width;
          scores!.acceptor[event.offset + i] = p[o + tracks.acceptor];
          scores!.donor[event.offset + i] = p[o + tracks.donor];
          scores!.neither[event.offset + i] = p[o + tracks.neither];
        }
      } else {
        const s = scores!;
        scores = undefined;
        const cluster = byInput.get(event.sequence)!;
        const seconds = (performance.now() - started) / 1000;
        for (const g of cluster.genes) {
          const from = clusterOffset(cluster, g.gene);
          const to = from + g.gene.end - g.gene.start + 1;
          finished.set(g, { scores: { acceptor: s.acceptor.slice(from, to), donor: s.donor.slice(from, to), neither: s.neither.slice(from, to) }, seconds });
        }
        while (next < genes.length && finished.has(genes[next])) {
          const g = genes[next++];
          const done = finished.get(g)!;
          finished.delete(g);
          await writeGene(g, done.scores, done.seconds);
          ctx.onGene?.(g.gene.end - g.gene.start + 1);
        }
      }
    }
    for (const g of chunk.genes) {
      const problem = problems.get(g);
      if (problem) {
        manifest(g, problem[0], problem[1]);
        ctx.onGene?.(g.gene.end - g.gene.start + 1);
      }
    }

    async function writeGene(g: SelectedGene, s: GeneScores, seconds: number): Promise<void> {
      const gene = { id: g.gene.id, chrom: g.gene.chrom, strand: g.gene.strand as '+' | '-', start: g.gene.start, end: g.gene.end };
      const sites = annotatedSites(g.transcripts);
      const n = gene.end - gene.start + 1;
      for (let k = 0; k < n; k++) {
        if (!Number.isFinite(s.acceptor[k]) || !Number.isFinite(s.donor[k]) || !Number.isFinite(s.neither[k])) {
          manifest(g, 'prediction_failed', `the model gave a non-finite score at ${gene.chrom}:${genomicPosition(gene, k)}`, { seconds });
          return;
        }
      }
      const labels = labelGene(gene, sites, s, ctx.label);
      await parts.positions!.write(labels.positions.map((r) => tsvLine(POSITIONS_TABLE, r)).join(''));
      await parts.errors!.write(labels.errors.map((r) => tsvLine(ERRORS_TABLE, r)).join(''));
      let siteCount = 0;
      for (const type of SITE_TYPES) {
        const c = labels.counts[type];
        counts[type].sites += c.sites;
        counts[type].tp += c.tp;
        counts[type].fp += c.fp;
        counts[type].fn += c.fn;
        siteCount += c.sites;
        const isSite = new Uint8Array(n);
        for (const pos of sites[type].keys()) {
          const k = relativePosition(gene, pos);
          if (k >= 0 && k < n) isSite[k] = 1;
        }
        const track = s[type];
        const ranking = rankings[type];
        for (let k = 0; k < n; k++) ranking.add(track[k], genomicPosition(gene, k), isSite[k] === 1);
      }
      if (parts.nucleotides) {
        let block = '';
        for (let k = 0; k < n; k++) {
          block += tsvLine(NUCLEOTIDES_TABLE, {
            gene_id: gene.id,
            gene_name: g.gene.name,
            chrom: gene.chrom,
            strand: gene.strand,
            position: k,
            genomic_position: genomicPosition(gene, k),
            donor_score: s.donor[k],
            acceptor_score: s.acceptor[k],
            neither_score: s.neither[k],
          });
          if (block.length > 1 << 20) {
            await parts.nucleotides.write(block);
            block = '';
          }
        }
        await parts.nucleotides.write(block);
      }
      processed++;
      manifest(g, 'processed', '', { positions: labels.positions.length, sites: siteCount, seconds });
    }

    for (const g of chunk.genes) await parts.manifest!.write(manifestLines.get(g) ?? '');
    for (const n of names) await parts[n]!.close();
    for (const type of SITE_TYPES) {
      const path = chunkRankPath(ctx.chunkDir, chunk.id, type);
      const data = rankings[type].encode();
      await moveIntoPlace(path, (temp) => fs.writeFile(temp, data));
    }
    for (const n of names) await fs.rename(parts[n]!.temp, parts[n]!.path);
    return { counts, processed };
  } catch (error) {
    for (const n of names) {
      await parts[n]!.close().catch(() => {});
      await fs.rm(parts[n]!.temp, { force: true }).catch(() => {});
    }
    throw error;
  }
}
