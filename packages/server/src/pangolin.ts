import { sha256File, InputError } from '@metaspliceai/core';
import {
  checkRuleTracks,
  type FastaReader,
  formatFixed,
  type GeneModel,
  PangolinGenes,
  PangolinScorer,
  readAnnotation,
  PANGOLIN_RULE,
  sniffAnnotationFormat,
  type VariantScore,
} from '@metaspliceai/genomics';
import { QueryBatcher } from './batcher.js';
import { cacheKey, type CachedAnswer, type ScoreCache } from './cache.js';
import { lookupAnswer, type LookupModel, type LookupQuery, RESPONSE_SCHEMA, transcriptPriority } from './engine.js';
import { formatLookupVariant } from './variant-text.js';

/** A genome for `/pangolin/`: its FASTA and a GTF/GFF3 (Pangolin masks with `Ensembl_canonical` exons). */
export interface PangolinLookupGenome {
  name: string;
  fasta: FastaReader;
  fastaSha256: string;
  annotation: { path: string; sha256: string; model: GeneModel };
}

/** Opens a genome for `/pangolin/`; a SpliceAI table has no tags and is refused with what to pass. */
export async function openPangolinGenome(name: string, fasta: FastaReader, fastaSha256: string, annotationPath: string): Promise<PangolinLookupGenome> {
  const format = await sniffAnnotationFormat(annotationPath);
  if (format === 'table') {
    throw new InputError(`${annotationPath}: /pangolin/ needs a GTF/GFF3 with Ensembl_canonical tags, not a SpliceAI table`, {
      hint: `give --annotation ${name}=<gencode .gtf>`,
    });
  }
  const model = await readAnnotation(annotationPath, { format });
  return { name, fasta, fastaSha256, annotation: { path: annotationPath, sha256: await sha256File(annotationPath), model } };
}

interface GeneInfo {
  name: string;
  strand: string;
  transcript?: { id: string; type?: string; tags: string[] };
}

/**
 * `/pangolin/` answers with a model that has Pangolin's four `p_splice_<tissue>` tracks, scored by
 * core's `PangolinScorer` (upstream `pangolin.py`'s numbers: the genome itself around the variant,
 * per position the largest gain and loss over tissues, masking with `Ensembl_canonical` exons when
 * `mask=1`). One entry per gene, as upstream's scorer reports, under SpliceAI-lookup's field names
 * (`DS_SG, DS_SL, DP_SG, DP_SL`, gene and representative-transcript fields). Queries arriving
 * together are scored in one `scoreMany`; answers are cached like `/spliceai/`'s.
 */
export class PangolinLookup {
  /** The scoring rule whose numbers /pangolin/ answers with (the CLI picks the family by it). */
  static readonly rule = PANGOLIN_RULE.name;

  readonly model: LookupModel;
  readonly genomes: Map<string, PangolinLookupGenome & { genes: PangolinGenes; info: Map<string, GeneInfo> }>;
  readonly cache?: ScoreCache;
  private readonly batchSize: number;
  private readonly scorers = new Map<string, PangolinScorer>();
  private readonly batcher = new QueryBatcher((queries) => this.round(queries));

  constructor(options: { model: LookupModel; genomes: readonly PangolinLookupGenome[]; cache?: ScoreCache; batchSize?: number }) {
    checkRuleTracks(PANGOLIN_RULE, options.model.model.tracks, `${options.model.adapter}:${options.model.set}`);
    this.model = options.model;
    this.cache = options.cache;
    this.batchSize = options.batchSize ?? 1;
    this.genomes = new Map(options.genomes.map((g) => [g.name, { ...g, genes: new PangolinGenes(g.annotation.model), info: geneInfo(g.annotation.model) }]));
  }

  /** Model rounds run, for tests and health. */
  get rounds(): number {
    return this.batcher.rounds;
  }

  async lookup(query: LookupQuery, signal?: AbortSignal): Promise<CachedAnswer> {
    const genome = this.genomes.get(query.genome);
    if (!genome)
      return {
        status: 400,
        body: {
          variant: query.text,
          source: 'pangolin',
          error: `Invalid "hg" value: "${query.genome}". /pangolin/ on this server has ${[...this.genomes.keys()].map((g) => `hg=${g}`).join(', ')}`,
        },
      };
    if (query.variant.ref === undefined)
      return {
        status: 400,
        body: {
          variant: query.text,
          source: 'pangolin',
          error: 'Pangolin scores need REF and ALT (chrom-pos-ref-alt); reference-only scores are served by /spliceai/',
        },
      };
    const key = this.cache
      ? cacheKey({
          schema: RESPONSE_SCHEMA,
          tool: 'pangolin',
          rule: PANGOLIN_RULE.name,
          members: this.model.members.map((m) => m.sha256),
          genomeSha256: genome.fastaSha256,
          annotationSha256: genome.annotation.sha256,
          distance: query.distance,
          mask: query.mask,
          variant: formatLookupVariant(query.variant),
        })
      : undefined;
    const hit = key ? this.cache!.get(key) : undefined;
    if (hit) return { status: hit.status, body: { ...(hit.body as object), variant: query.text, source: 'pangolin:cache' } };
    const answer = await this.batcher.submit(query, signal);
    if (key) this.cache!.set(key, answer);
    return answer;
  }

  /** One group's queries (same genome, distance, mask) through one PangolinScorer.scoreMany. */
  private async round(queries: LookupQuery[]): Promise<CachedAnswer[]> {
    const { genome, distance, mask } = queries[0];
    const g = this.genomes.get(genome)!;
    const id = `${genome}\u0000${distance}\u0000${mask}`;
    let scorer = this.scorers.get(id);
    if (!scorer) {
      scorer = new PangolinScorer({
        model: this.model.model,
        fasta: g.fasta,
        genes: g.genes,
        dist: distance,
        mask: mask === 1,
        encoding: this.model.encoding,
        batchSize: this.batchSize,
      });
      this.scorers.set(id, scorer);
    }
    const results = await scorer.scoreMany(queries.map((q) => ({ chrom: q.variant.chrom, pos: q.variant.pos, ref: q.variant.ref!, alts: [q.variant.alt!] })));
    return queries.map((q, i) => this.answer(q, g, results[i]));
  }

  private answer(q: LookupQuery, genome: { info: Map<string, GeneInfo> }, result: VariantScore): CachedAnswer {
    if (result.skipped)
      return {
        status: 400,
        body: {
          variant: q.text,
          source: 'pangolin',
          error: `Pangolin was unable to compute scores for ${formatLookupVariant(q.variant)}: ${result.skipped.message}`,
        },
      };
    const scores = result.entries.map((e) => {
      // gene|gain_pos:gain|loss_pos:loss|Warnings:...
      const [gene, gain, loss, warnings] = e.text.split('|');
      const [gp, gv] = gain.split(':');
      const [lp, lv] = loss.split(':');
      const info = genome.info.get(gene);
      return {
        DS_SG: formatFixed(Number(gv), 2),
        DS_SL: formatFixed(Number(lv), 2),
        DP_SG: Number(gp),
        DP_SL: Number(lp),
        g_id: gene,
        g_name: info?.name ?? gene,
        t_id: info?.transcript?.id ?? '',
        t_type: info?.transcript?.type ?? '',
        t_strand: e.strand,
        t_priority: transcriptPriority(info?.transcript?.tags),
        warnings: warnings.replace(/^Warnings:/, ''),
      };
    });
    // Per gene, as upstream pangolin.py scores: no per-position rows.
    return lookupAnswer(
      q,
      PANGOLIN_RULE.name,
      this.model,
      scores.map((entry) => ({ scores: entry, sum: 0 })),
      { ref: q.variant.ref, alt: q.variant.alt },
    );
  }
}

/** Per gene id: its name and strand, and the transcript that represents it (MANE Select, else canonical, else the first). */
function geneInfo(model: GeneModel): Map<string, GeneInfo> {
  const out = new Map<string, GeneInfo>();
  const order = { MS: 3, MP: 2, C: 1, N: 0 } as const;
  for (const g of model.genes) {
    let best: GeneInfo['transcript'];
    for (const t of g.transcripts) {
      if (!best || order[transcriptPriority(t.tags)] > order[transcriptPriority(best.tags)]) best = { id: t.id, type: t.biotype, tags: t.tags };
    }
    out.set(g.id, { name: g.name, strand: g.strand, transcript: best });
  }
  return out;
}
