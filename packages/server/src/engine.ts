import { type LoadedModel, parseOptions, type VariantEncoding } from '@metaspliceai/core';
import { lookupEngineOptionsSchema } from './engine-options.js';
import {
  AnnotationIndex,
  checkRuleTracks,
  SPLICEAI_RULE,
  alignAltRows,
  type AnnotationRecord,
  deltaProbabilities,
  type FastaReader,
  formatFixed,
  MAX_SCORING_DISTANCE,
  predictReferenceRows,
  type VariantScore,
  VariantScorer,
} from '@metaspliceai/genomics';
import { LookupAbortedError, QueryBatcher } from './batcher.js';
import { cacheKey, type CachedAnswer, type ScoreCache } from './cache.js';

export { LookupAbortedError };
import { formatLookupVariant, type LookupVariant } from './variant-text.js';

/** A genome build the server answers for (`hg=37`): its FASTA and its annotation. */
export interface LookupGenome {
  /** The `hg` value: `37`, `38`, or any name. */
  name: string;
  fasta: FastaReader;
  fastaSha256: string;
  /** Annotation rows (one per transcript: scores are per transcript). */
  annotation: { rows: AnnotationRecord[]; path: string; sha256: string };
}

/** The model a server scores with, and what identifies it in health reports and cache keys. */
export interface LookupModel {
  model: LoadedModel;
  adapter: string;
  set: string;
  /** Member files with their sha256, in member order. */
  members: { file: string; sha256: string }[];
  license?: string;
  /** How ALT alleles are one-hot encoded (SpliceAI's quirk, or ACGT only). */
  encoding: VariantEncoding;
}

export interface LookupQuery {
  genome: string;
  variant: LookupVariant;
  /** The `variant` text as sent, echoed back like SpliceAI-lookup does. */
  text: string;
  distance: number;
  mask: 0 | 1;
}

export interface LookupEngineOptions {
  model: LookupModel;
  genomes: readonly LookupGenome[];
  cache?: ScoreCache;
  /**
   * Windows per model call (default 1): a call blocks the event loop (onnxruntime's `run` is
   * synchronous underneath), so small calls keep the server answering between them.
   */
  batchSize?: number;
  /** Variants scored together at most (default 64); requests beyond wait for the next round. */
  maxBatch?: number;
  /** Decimals of the scores in responses (default 2, as SpliceAI-lookup). */
  precision?: number;
}

/** Bump when a response's fields or numbers change: old cache entries are then never served. */
export const RESPONSE_SCHEMA = 1;

/** The largest `distance` a lookup takes: SpliceAI-lookup's 10000, the scorer's own limit. */
export const MAX_DISTANCE = MAX_SCORING_DISTANCE;

/** Minimum probability for a row of `allNonZeroScores` (SpliceAI-lookup's MIN_SCORE_THRESHOLD). */
const MIN_SCORE = 0.01;

/**
 * Answers SpliceAI-lookup queries with one loaded model. Queries that arrive while the model is busy
 * (or in the same tick) are scored together by one `VariantScorer.scoreMany` per (genome, distance,
 * mask), so variants of one gene share the reference pass and the model calls. Answers are cached
 * when a cache is given; a query whose client disconnected before its turn is dropped unscored.
 */
export class LookupEngine {
  readonly model: LookupModel;
  readonly genomes: Map<string, LookupGenome & { index: AnnotationIndex }>;
  readonly cache?: ScoreCache;
  private readonly batchSize: number;
  private readonly precision: number;
  private readonly scorers = new Map<string, VariantScorer>();
  private readonly batcher: QueryBatcher;

  constructor(options: LookupEngineOptions) {
    parseOptions(lookupEngineOptionsSchema, options, { owner: 'LookupEngine' });
    checkRuleTracks(SPLICEAI_RULE, options.model.model.tracks, `${options.model.adapter}:${options.model.set}`);
    this.model = options.model;
    this.genomes = new Map(options.genomes.map((g) => [g.name, { ...g, index: new AnnotationIndex({ source: g.annotation.path, rows: g.annotation.rows }) }]));
    this.cache = options.cache;
    this.batchSize = options.batchSize ?? 1;
    this.precision = options.precision ?? 2;
    this.batcher = new QueryBatcher((queries) => this.round(queries), options.maxBatch ?? 64);
  }

  /** Model rounds run, for tests and health. */
  get rounds(): number {
    return this.batcher.rounds;
  }

  /** The answer to one query: HTTP status and JSON body, from the cache or the model. */
  async lookup(query: LookupQuery, signal?: AbortSignal): Promise<CachedAnswer> {
    const genome = this.genomes.get(query.genome);
    if (!genome)
      return {
        status: 400,
        body: { error: `Invalid "hg" value: "${query.genome}". This server has ${[...this.genomes.keys()].map((g) => `hg=${g}`).join(', ')}` },
      };
    const key = this.cache ? this.key(query, genome) : undefined;
    if (key) {
      const hit = this.cache!.get(key);
      if (hit) {
        const body = hit.body as Record<string, unknown>;
        return {
          status: hit.status,
          body: { ...body, variant: query.text, ...(typeof body.source === 'string' ? { source: `${body.source.replace(/:model$/, '')}:cache` } : {}) },
        };
      }
    }
    const answer = await this.batcher.submit(query, signal);
    if (key) this.cache!.set(key, answer);
    return answer;
  }

  private key(query: LookupQuery, genome: LookupGenome): string {
    return cacheKey({
      schema: RESPONSE_SCHEMA,
      tool: 'spliceai',
      rule: SPLICEAI_RULE.name,
      members: this.model.members.map((m) => m.sha256),
      genomeSha256: genome.fastaSha256,
      annotationSha256: genome.annotation.sha256,
      distance: query.distance,
      mask: query.mask,
      variant: formatLookupVariant(query.variant),
    });
  }

  private scorer(genome: LookupGenome & { index: AnnotationIndex }, distance: number, mask: 0 | 1): VariantScorer {
    const id = `${genome.name}\u0000${distance}\u0000${mask}`;
    let scorer = this.scorers.get(id);
    if (!scorer) {
      scorer = new VariantScorer({
        model: this.model.model,
        fasta: genome.fasta,
        annotation: genome.index,
        dist: distance,
        mask: mask === 1,
        encoding: this.model.encoding,
        batchSize: this.batchSize,
        keepRows: true,
      });
      this.scorers.set(id, scorer);
    }
    return scorer;
  }

  /** One round: queries of one (genome, distance, mask) scored together. */
  private async round(queries: LookupQuery[]): Promise<CachedAnswer[]> {
    const { genome: name, distance, mask } = queries[0];
    const genome = this.genomes.get(name)!;
    const answers: CachedAnswer[] = new Array(queries.length);
    const withAlt: number[] = [];
    queries.forEach((q, i) => {
      if (q.variant.ref !== undefined && q.variant.ref.length > 1 && q.variant.alt!.length > 1) {
        answers[i] = error(
          q,
          `SpliceAI does not score variants whose REF and ALT are both longer than 1 (${formatLookupVariant(q.variant)}); write it as a deletion and an insertion`,
        );
      } else if (q.variant.ref !== undefined) withAlt.push(i);
    });
    if (withAlt.length) {
      const scorer = this.scorer(genome, distance, mask);
      const results = await scorer.scoreMany(
        withAlt.map((i) => ({ chrom: queries[i].variant.chrom, pos: queries[i].variant.pos, ref: queries[i].variant.ref!, alts: [queries[i].variant.alt!] })),
      );
      withAlt.forEach((i, k) => (answers[i] = this.deltaAnswer(queries[i], genome, results[k])));
    }
    for (let i = 0; i < queries.length; i++) if (!answers[i]) answers[i] = await this.referenceAnswer(queries[i], genome);
    return answers;
  }

  private fmt(x: number): string {
    return formatFixed(x, this.precision);
  }

  private deltaAnswer(q: LookupQuery, genome: LookupGenome & { index: AnnotationIndex }, result: VariantScore): CachedAnswer {
    if (result.skipped) return error(q, skipMessage(q, genome, result));
    const dist = q.distance;
    const hits = genome.index.overlapping(q.variant.chrom, q.variant.pos);
    const transcripts = result.entries
      .filter((e) => e.delta && e.rows)
      .map((e) => {
        const row = hits.find((h) => h.index === e.transcriptIndex)!.row;
        const delta = e.delta!;
        const aligned = alignAltRows(e.rows!.alt, q.variant.ref!.length, q.variant.alt!.length, dist);
        const p = deltaProbabilities(delta, e.rows!.ref, aligned, dist);
        const scores = {
          DS_AG: this.fmt(delta.scores[0]),
          DS_AL: this.fmt(delta.scores[1]),
          DS_DG: this.fmt(delta.scores[2]),
          DS_DL: this.fmt(delta.scores[3]),
          DP_AG: delta.positions[0],
          DP_AL: delta.positions[1],
          DP_DG: delta.positions[2],
          DP_DL: delta.positions[3],
          DS_AG_REF: this.fmt(p.ref[0]),
          DS_AG_ALT: this.fmt(p.alt[0]),
          DS_AL_REF: this.fmt(p.ref[1]),
          DS_AL_ALT: this.fmt(p.alt[1]),
          DS_DG_REF: this.fmt(p.ref[2]),
          DS_DG_ALT: this.fmt(p.alt[2]),
          DS_DL_REF: this.fmt(p.ref[3]),
          DS_DL_ALT: this.fmt(p.alt[3]),
          ...transcriptFields(row),
        };
        const picked = new Set([...delta.positions.map((d) => d + dist), dist]);
        const rows: { pos: number; RA: string; AA: string; RD: string; AD: string }[] = [];
        const ref = e.rows!.ref;
        for (let r = 0; r < 2 * dist + 1; r++) {
          const ra = ref[r * 3 + 1];
          const aa = aligned[r * 3 + 1];
          const rd = ref[r * 3 + 2];
          const ad = aligned[r * 3 + 2];
          if (picked.has(r) || Math.max(ra, aa, rd, ad) >= MIN_SCORE)
            rows.push({ pos: q.variant.pos - dist + r, RA: this.fmt(ra), AA: this.fmt(aa), RD: this.fmt(rd), AD: this.fmt(ad) });
        }
        const sum = delta.scores.reduce((n, s) => n + Math.abs(s), 0);
        return { scores, rows, sum, row };
      });
    return lookupAnswer(q, SPLICEAI_RULE.name, this.model, transcripts, { ref: q.variant.ref, alt: q.variant.alt });
  }

  /** A bare `chrom-pos`: per transcript the highest REF acceptor and donor probabilities within ±distance. */
  private async referenceAnswer(q: LookupQuery, genome: LookupGenome & { index: AnnotationIndex }): Promise<CachedAnswer> {
    const hits = genome.index.overlapping(q.variant.chrom, q.variant.pos);
    if (!hits.length) return error(q, skipMessage(q, genome));
    const fastaName = await genome.fasta.resolveName(q.variant.chrom);
    if (fastaName === undefined) return error(q, `Contig ${q.variant.chrom} is not in the genome FASTA of hg=${q.genome}`);
    const dist = q.distance;
    const transcripts: { scores: Record<string, unknown>; rows: { pos: number; RA: string; RD: string }[]; sum: number; row: AnnotationRecord }[] = [];
    for (const hit of hits) {
      const ref = await predictReferenceRows({
        model: this.model.model,
        fasta: genome.fasta,
        fastaName,
        hit,
        pos: q.variant.pos,
        dist,
        encoding: this.model.encoding,
      });
      let a = 0;
      let d = 0;
      for (let r = 1; r < 2 * dist + 1; r++) {
        if (ref[r * 3 + 1] > ref[a * 3 + 1]) a = r;
        if (ref[r * 3 + 2] > ref[d * 3 + 2]) d = r;
      }
      const rows: { pos: number; RA: string; RD: string }[] = [];
      for (let r = 0; r < 2 * dist + 1; r++) {
        if (r === a || r === d || r === dist || Math.max(ref[r * 3 + 1], ref[r * 3 + 2]) >= MIN_SCORE)
          rows.push({ pos: q.variant.pos - dist + r, RA: this.fmt(ref[r * 3 + 1]), RD: this.fmt(ref[r * 3 + 2]) });
      }
      transcripts.push({
        scores: {
          RA_MAX: this.fmt(ref[a * 3 + 1]),
          RA_MAX_POS: a - dist,
          RD_MAX: this.fmt(ref[d * 3 + 2]),
          RD_MAX_POS: d - dist,
          ...transcriptFields(hit.row),
        },
        rows,
        sum: ref[a * 3 + 1] + ref[d * 3 + 2],
        row: hit.row,
      });
    }
    return lookupAnswer(q, SPLICEAI_RULE.name, this.model, transcripts, { ref: null, alt: null });
  }
}

/** SpliceAI-lookup's `t_priority`: MANE Select, MANE Plus Clinical, canonical, or none. */
/**
 * A scored answer in SpliceAI-lookup's shape: the query echoed, one `scores` entry per transcript, and
 * the per-position rows (`allNonZeroScores`) of the top transcript (MANE first, then the largest sum).
 */
export function lookupAnswer(
  q: LookupQuery,
  /** The scoring rule behind the answer, SpliceAI-lookup's `source` prefix (`spliceai:model`). */
  rule: string,
  model: Pick<LookupModel, 'adapter' | 'set'>,
  transcripts: readonly { scores: Record<string, unknown>; rows?: readonly unknown[]; sum: number; row?: AnnotationRecord }[],
  alleles: { ref?: string | null; alt?: string | null },
): CachedAnswer {
  const top = pickTop(transcripts.filter((t): t is (typeof transcripts)[number] & { row: AnnotationRecord } => t.row !== undefined));
  return {
    status: 200,
    body: {
      variant: q.text,
      genomeVersion: q.genome,
      chrom: q.variant.chrom,
      pos: q.variant.pos,
      ref: alleles.ref ?? null,
      alt: alleles.alt ?? null,
      distance: q.distance,
      mask: q.mask,
      scores: transcripts.map((t) => t.scores),
      source: `${rule}:model`,
      allNonZeroScores: top?.rows ?? null,
      allNonZeroScoresStrand: top?.row.strand ?? null,
      allNonZeroScoresTranscriptId: top ? (top.row.transcriptId ?? top.row.name) : null,
      model: `${model.adapter}:${model.set}`,
    },
  };
}

export function transcriptPriority(tags: readonly string[] | undefined): 'MS' | 'MP' | 'C' | 'N' {
  const has = (...names: string[]) => names.some((n) => tags?.includes(n));
  if (has('MANE_Select', 'MANE Select')) return 'MS';
  if (has('MANE_Plus_Clinical', 'MANE Plus Clinical')) return 'MP';
  if (has('Ensembl_canonical', 'canonical', 'RefSeq Select', 'RefSeq_Select')) return 'C';
  return 'N';
}

const PRIORITY_ORDER = { MS: 3, MP: 2, C: 1, N: 0 } as const;

/** The transcript whose rows the response carries: highest priority, then the largest |delta| sum. */
function pickTop<T extends { sum: number; row: AnnotationRecord }>(list: T[]): T | undefined {
  let best: T | undefined;
  for (const t of list) {
    const p = PRIORITY_ORDER[transcriptPriority(t.row.tags)];
    const b = best ? PRIORITY_ORDER[transcriptPriority(best.row.tags)] : -1;
    if (!best || p > b || (p === b && t.sum > best.sum)) best = t;
  }
  return best;
}

/** The per-transcript fields SpliceAI-lookup adds from its annotation, plus the structure the page draws. */
function transcriptFields(row: AnnotationRecord) {
  return {
    g_name: row.name,
    g_id: row.geneId ?? '',
    t_id: row.transcriptId ?? '',
    t_type: row.biotype ?? '',
    t_strand: row.strand,
    t_priority: transcriptPriority(row.tags),
    TX_START: row.txStart + 1,
    TX_END: row.txEnd,
    EXON_STARTS: row.exonStarts.map((s) => s + 1),
    EXON_ENDS: row.exonEnds,
  };
}

function error(q: LookupQuery, message: string): CachedAnswer {
  return { status: 400, body: { variant: q.text, source: 'spliceai', error: message } };
}

function skipMessage(q: LookupQuery, genome: LookupGenome, result?: VariantScore): string {
  const v = formatLookupVariant(q.variant);
  if (!result || result.skipped?.reason === 'outside-genes') {
    return `The SpliceAI model did not return any scores for ${v}: it is not inside any transcript of the hg=${q.genome} annotation (${genome.annotation.path.split('/').pop()})`;
  }
  const s = result.skipped!;
  return `The SpliceAI model did not return any scores for ${v}: ${s.message}`;
}
