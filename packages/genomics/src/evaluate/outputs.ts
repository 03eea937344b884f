import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '@metaspliceai/core';
import { writeFileAtomic } from './atomic.js';
import type { SiteCounts } from './labels.js';
import { precisionRecallF1, type SiteTypeMetrics } from './metrics.js';
import { mergeRankings } from './ranking.js';
import { SITE_TYPES, type SiteType } from './sites.js';
import { ERRORS_TABLE, MANIFEST_TABLE, NUCLEOTIDES_TABLE, POSITIONS_TABLE, type TableFormat, type TableSpec, writeTableFromParts } from './tables.js';

/** The part files a chunk leaves in its run's `chunks/` folder. */
export type PartName = 'positions' | 'errors' | 'manifest' | 'nucleotides';
const PART_TABLES: readonly [PartName, TableSpec][] = [
  ['positions', POSITIONS_TABLE],
  ['errors', ERRORS_TABLE],
  ['manifest', MANIFEST_TABLE],
  ['nucleotides', NUCLEOTIDES_TABLE],
];

export const chunkPartPath = (chunkDir: string, id: string, part: PartName) => join(chunkDir, `${id}.${part}.tsv`);
export const chunkRankPath = (chunkDir: string, id: string, type: SiteType) => join(chunkDir, `${id}.${type}.rank`);

/** What a finished chunk records beside its parts (`<id>.done.json`). */
export interface ChunkRecord {
  fingerprint: string;
  counts: Record<SiteType, SiteCounts>;
  /** Genes processed (the rest have a manifest row only). */
  genes: number;
}

/** A finished chunk of some run: its folder, id, and contig index in annotation order. */
export interface ChunkRef {
  chunkDir: string;
  id: string;
  chromIndex: number;
}

/**
 * What a run writes to `chunks/run.json`: its chunks in order and the report's fixed fields, so
 * runs over parts of a genome (shards by contig) can be merged into the tables one run would write.
 */
export interface RunRecord {
  chunks: { id: string; chromIndex: number }[];
  nucleotideScores: boolean;
  /** `evaluation_metrics.json` without `genes` and the per-type metrics. */
  report: Record<string, unknown>;
}

/**
 * Writes the final tables (the chunk parts concatenated in order, then the unmatched requests'
 * manifest rows) and `evaluation_metrics.json`, with metrics pooled over every chunk.
 */
export async function writeEvaluationOutputs(options: {
  outputDir: string;
  chunks: readonly ChunkRef[];
  unmatchedParts: readonly string[];
  format: TableFormat;
  nucleotideScores: boolean;
  report: Record<string, unknown>;
}): Promise<{ files: string[]; genes: number; metrics: Record<SiteType, SiteTypeMetrics> }> {
  const records: ChunkRecord[] = [];
  for (const c of options.chunks) records.push(JSON.parse(await fs.readFile(join(c.chunkDir, `${c.id}.done.json`), 'utf8')) as ChunkRecord);
  const ext = options.format === 'parquet' ? 'parquet' : 'tsv';
  const files: string[] = [];
  for (const [part, spec] of PART_TABLES) {
    if (part === 'nucleotides' && !options.nucleotideScores) continue;
    const parts = options.chunks.map((c) => chunkPartPath(c.chunkDir, c.id, part));
    if (part === 'manifest') parts.push(...options.unmatchedParts);
    const path = join(options.outputDir, `${spec.name}.${ext}`);
    await writeTableFromParts(spec, parts, path, options.format);
    files.push(path);
  }
  const metrics = {} as Record<SiteType, SiteTypeMetrics>;
  for (const type of SITE_TYPES) {
    const counts = { sites: 0, tp: 0, fp: 0, fn: 0 };
    for (const r of records) for (const k of ['sites', 'tp', 'fp', 'fn'] as const) counts[k] += r.counts[type][k];
    const ranking = mergeRankings(
      options.chunks.map((c) => ({ path: chunkRankPath(c.chunkDir, c.id, type), chrom: c.chromIndex })),
      counts.sites,
    );
    metrics[type] = {
      sites: counts.sites,
      top_k_accuracy: ranking.topKAccuracy,
      pr_auc: ranking.averagePrecision,
      tp: counts.tp,
      fp: counts.fp,
      fn: counts.fn,
      ...precisionRecallF1(counts),
    };
  }
  const genes = records.reduce((n, r) => n + r.genes, 0);
  const metricsPath = join(options.outputDir, 'evaluation_metrics.json');
  const { model, annotation, threshold, window, ...rest } = options.report;
  const report = { model, annotation, threshold, window, ...rest, genes, acceptor: metrics.acceptor, donor: metrics.donor };
  await writeFileAtomic(metricsPath, `${JSON.stringify(report, null, 2)}\n`);
  files.push(metricsPath);
  return { files, genes, metrics };
}

/**
 * Merges finished runs over disjoint parts of a genome (e.g. one per contig, as the Snakemake
 * workflow shards them) into the tables and metrics one run over all of it writes: chunks in
 * annotation contig order, rankings merged exactly. The runs must share model, annotation and
 * settings; a request none of them could match is listed once.
 */
export async function mergeEvaluations(
  runDirs: readonly string[],
  options: { outputDir: string; format?: TableFormat },
): Promise<{ files: string[]; genes: number; metrics: Record<SiteType, SiteTypeMetrics> }> {
  if (runDirs.length === 0) throw new InputError('nothing to merge: give the output folders of finished evaluate runs');
  const runs: { dir: string; record: RunRecord }[] = [];
  for (const dir of runDirs) {
    const path = join(dir, 'chunks', 'run.json');
    if (!existsSync(path))
      throw new InputError(`${dir}: not a finished evaluate run (no chunks/run.json)`, {
        hint: 'run metaspliceai evaluate with --output-dir there first, and let it finish',
      });
    runs.push({ dir, record: JSON.parse(await fs.readFile(path, 'utf8')) as RunRecord });
  }
  const first = runs[0].record;
  for (const r of runs.slice(1)) {
    if (JSON.stringify(r.record.report) !== JSON.stringify(first.report) || r.record.nucleotideScores !== first.nucleotideScores) {
      throw new InputError(`${r.dir}: made with other settings, model or annotation than ${runs[0].dir}; runs merge only when those match`, {
        hint: 'compare the two chunks/run.json files',
      });
    }
  }
  const chunks = runs
    .flatMap((r, order) => r.record.chunks.map((c, i) => ({ chunkDir: join(r.dir, 'chunks'), id: c.id, chromIndex: c.chromIndex, order, i })))
    .sort((a, b) => a.chromIndex - b.chromIndex || a.order - b.order || a.i - b.i);
  // Unmatched requests: each shard lists those it could not match (a gene on another shard's
  // contig among them); keep those no shard matched, once each.
  const seen = new Set<string>();
  for (const c of chunks) {
    const text = await fs.readFile(chunkPartPath(c.chunkDir, c.id, 'manifest'), 'utf8');
    for (const line of text.split('\n')) if (line) seen.add(line.split('\t')[2]);
  }
  let unmatched = '';
  for (const r of runs) {
    const text = await fs.readFile(join(r.dir, 'chunks', 'unmatched.manifest.tsv'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line) continue;
      const requested = line.split('\t')[2];
      if (seen.has(requested)) continue;
      seen.add(requested);
      unmatched += `${line}\n`;
    }
  }
  await fs.mkdir(join(options.outputDir, 'chunks'), { recursive: true });
  const unmatchedPart = join(options.outputDir, 'chunks', 'merged-unmatched.manifest.tsv');
  await writeFileAtomic(unmatchedPart, unmatched);
  return writeEvaluationOutputs({
    outputDir: options.outputDir,
    chunks,
    unmatchedParts: [unmatchedPart],
    format: options.format ?? 'tsv',
    nucleotideScores: first.nucleotideScores,
    report: first.report,
  });
}
