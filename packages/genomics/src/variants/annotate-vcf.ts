import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { TextInput } from '../io/lines.js';
import { formatVcfHeader, openVcf, removeInfoField, setInfoField, type VcfLine } from '../io/vcf.js';
import { SKIP_REASONS, type SkipReason, type VariantInput, type VariantScore } from './scorer.js';

/** Why a record was written without a score. */
export type UnscoredReason = SkipReason | 'malformed';

export interface VcfWarning {
  /** 1-based line number in the input. */
  line: number;
  /**
   * Why the record was not scored, or `ambiguous-alt` for a scored record of which some ALT was
   * left out for holding IUPAC codes. At most one warning per record.
   */
  reason: UnscoredReason | 'ambiguous-alt';
  /** One line: where, what, why. */
  message: string;
}

/**
 * What annotates records: `VariantScorer` (the `spliceai` rule) or another rule's scorer. Each
 * entry's `text` goes into the INFO key, comma-joined; the default key is SpliceAI's.
 */
export interface RecordScorer {
  scoreMany(variants: readonly VariantInput[], onBatch?: (done: number, total: number) => void): Promise<VariantScore[]>;
  /** The INFO key written (default `SpliceAI`). */
  readonly infoKey?: string;
  /** Its `##INFO=<ID=...>` header line (default SpliceAI's). */
  readonly infoHeader?: string;
}

export interface AnnotateVcfOptions {
  scorer: RecordScorer;
  input: TextInput;
  /** Name for messages (default: the path, or `stdin`). */
  inputName?: string;
  /** Receives the output VCF (plain text; wrap it in createBgzfStream() for bgzip). */
  output: Writable;
  /** Extra `##` header lines (provenance), written after SpliceAI's INFO line. */
  headerLines?: readonly string[];
  /** Records scored together (default 256): more shares more reference work, and holds more in memory. */
  chunkSize?: number;
  onWarning?: (warning: VcfWarning) => void;
  /** Warnings about the input as a whole (a bgzip file without its end-of-file block). */
  onInputWarning?: (message: string) => void;
  /** After each model call and each chunk: records written so far, input bytes read so far. */
  onProgress?: (progress: { records: number; bytesRead: number }) => void;
}

export interface AnnotateVcfSummary {
  /** Record lines read (malformed ones included). */
  records: number;
  /** Records that got a score (a SpliceAI field, or the rule's key). */
  scored: number;
  /** (ALT, gene) entries written. */
  entries: number;
  unscored: Record<UnscoredReason, number>;
  seconds: number;
}

/** A short label of each reason, for warnings and summaries. */
export const UNSCORED_LABELS: Record<UnscoredReason, string> = {
  'outside-genes': 'outside genes',
  'contig-missing': 'contig not in the reference',
  'contig-end': 'near a contig end',
  'ref-mismatch': 'REF mismatch',
  'ref-too-long': 'deletion longer than 2*dist',
  'no-scorable-alt': 'no scorable ALT',
  'invalid-position': 'invalid position',
  malformed: 'malformed line',
};

/** A long allele (or message) shortened for a one-line warning: its start and its length. */
function abbreviate(text: string, max = 20): string {
  return text.length > max ? `${text.slice(0, max)}...(${text.length} characters)` : text;
}

/**
 * Annotates a VCF as `spliceai -I ... -O ...` does: the header gains SpliceAI's INFO line (and the
 * given provenance lines); every input line is written, in order, byte for byte, except that a
 * scored record's INFO gains `SpliceAI=` entries (one per ALT and gene, comma-joined). Records that
 * cannot be scored, malformed lines included, are written unchanged and reported to `onWarning`,
 * except that any `SpliceAI=` a record already had is removed (it came from another run, which the
 * new header does not describe), with a warning when the record got no new one.
 */
export async function annotateVcf(options: AnnotateVcfOptions): Promise<AnnotateVcfSummary> {
  const started = performance.now();
  const { scorer, output } = options;
  const chunkSize = options.chunkSize ?? 256;
  let bytesRead = 0;
  const name = options.inputName ?? (typeof options.input === 'string' ? options.input : 'stdin');
  const vcf = await openVcf(options.input, { name, onRead: (n) => (bytesRead += n), onWarning: options.onInputWarning });
  const summary: AnnotateVcfSummary = {
    records: 0,
    scored: 0,
    entries: 0,
    unscored: Object.fromEntries([...SKIP_REASONS, 'malformed'].map((r) => [r, 0])) as Record<UnscoredReason, number>,
    seconds: 0,
  };
  // An output that failed (a full disk) is destroyed and never drains: stop with its error.
  const closedError = () => output.errored ?? new Error('the output stream was closed');
  const write = async (text: string) => {
    if (output.destroyed) throw closedError();
    if (!output.write(Buffer.from(text, 'latin1'))) {
      const done = new AbortController();
      try {
        await Promise.race([once(output, 'drain', { signal: done.signal }), once(output, 'close', { signal: done.signal })]);
      } finally {
        done.abort(); // detach the listener that did not fire
      }
      if (output.destroyed) throw closedError();
    }
  };
  const key = scorer.infoKey ?? 'SpliceAI';
  await write(formatVcfHeader(vcf.header, options.headerLines, scorer.infoHeader ? { key, line: scorer.infoHeader } : undefined));

  let chunk: VcfLine[] = [];
  const flush = async () => {
    const records = chunk.filter((l) => l.variant);
    const before = summary.records;
    const scores = await scorer.scoreMany(
      records.map((l) => l.variant!),
      (done, total) => options.onProgress?.({ records: before + Math.floor((chunk.length * done) / Math.max(total, 1)), bytesRead }),
    );
    const byLine = new Map<VcfLine, VariantScore>(records.map((l, i) => [l, scores[i]]));
    let text = '';
    for (const l of chunk) {
      const eol = l.line.eol;
      const score = byLine.get(l);
      if (l.problem !== undefined) {
        summary.records++;
        summary.unscored.malformed++;
        options.onWarning?.({
          line: l.line.number,
          reason: 'malformed',
          message: `line ${l.line.number}: malformed record written unchanged: ${abbreviate(l.problem, 200)}`,
        });
      } else if (score) {
        summary.records++;
        const v = score.variant;
        const where = `line ${l.line.number}: ${v.chrom}:${v.pos} ${abbreviate(v.ref)}>${abbreviate(v.alts.join(',') || '.')}`;
        const ambiguous = score.ambiguousAlts.length
          ? `ALT ${score.ambiguousAlts.map((a) => abbreviate(a)).join(',')} not scored (IUPAC code or a letter other than A, C, G, T, N; SpliceAI would read it as another base)`
          : undefined;
        if (score.skipped) {
          // One warning per record: why it got no score, and what else was done to it.
          summary.unscored[score.skipped.reason]++;
          const stale = removeInfoField(l.line.text, key);
          options.onWarning?.({
            line: l.line.number,
            reason: score.skipped.reason,
            message:
              `${where} not scored (${UNSCORED_LABELS[score.skipped.reason]}): ${abbreviate(score.skipped.message, 200)}` +
              (stale.removed ? `; its earlier ${key}= entry was removed (it came from another run)` : ''),
          });
          text += stale.text + eol;
          continue;
        }
        summary.scored++;
        summary.entries += score.entries.length;
        if (ambiguous) options.onWarning?.({ line: l.line.number, reason: 'ambiguous-alt', message: `${where}: ${ambiguous}` });
        text += setInfoField(l.line.text, key, score.entries.map((e) => e.text).join(',')) + eol;
        continue;
      }
      text += l.line.text + l.line.eol;
    }
    await write(text);
    chunk = [];
    options.onProgress?.({ records: summary.records, bytesRead });
  };

  let pending = 0;
  for await (const line of vcf.lines) {
    chunk.push(line);
    if (line.variant && ++pending >= chunkSize) {
      await flush();
      pending = 0;
    }
  }
  if (chunk.length) await flush();
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
