import { InvalidArgumentError } from '@metaspliceai/core';
import type { RecordScorer } from './annotate-vcf.js';
import { formatFixed } from './format.js';
import { alignAltRows, deltaProbabilities } from './probabilities.js';
import type { VariantInput, VariantScore, VariantScorer } from './scorer.js';

/** The fields of a raw entry, in the bw2/SpliceAI fork's `INFO_FIELD_KEYS` order. */
export const RAW_ENTRY_FIELDS = [
  'ALLELE',
  'NAME',
  'STRAND',
  'DS_AG',
  'DS_AL',
  'DS_DG',
  'DS_DL',
  'DP_AG',
  'DP_AL',
  'DP_DG',
  'DP_DL',
  'DS_AG_REF',
  'DS_AG_ALT',
  'DS_AL_REF',
  'DS_AL_ALT',
  'DS_DG_REF',
  'DS_DG_ALT',
  'DS_DL_REF',
  'DS_DL_ALT',
] as const;

/** The INFO header of raw output: SpliceAI's key, the fork's layout. */
export const RAW_INFO_HEADER = `##INFO=<ID=SpliceAI,Number=.,Type=String,Description="SpliceAI variant annotation with the REF and ALT probabilities at each delta position (the layout of the bw2/SpliceAI fork). Format: ${RAW_ENTRY_FIELDS.join('|')}">`;

/**
 * Wraps a `VariantScorer` made with `keepRows: true` so each entry's text is the bw2 fork's
 * `ALLELE|NAME|STRAND|DS_*|DP_*|DS_AG_REF|DS_AG_ALT|...` instead of SpliceAI's ten fields: the REF
 * and ALT probability of each event's class at its position, which SpliceAI users have long asked
 * for. The scores and positions are the scorer's own; the rows are dropped once written.
 */
export function rawEntryScorer(scorer: VariantScorer): RecordScorer {
  if (!scorer.keepRows) throw new InvalidArgumentError('raw entries need the REF and ALT rows: create the VariantScorer with keepRows: true');
  const fmt = (x: number) => formatFixed(x, scorer.precision);
  return {
    infoKey: 'SpliceAI',
    infoHeader: RAW_INFO_HEADER,
    async scoreMany(variants: readonly VariantInput[], onBatch?: (done: number, total: number) => void): Promise<VariantScore[]> {
      const results = await scorer.scoreMany(variants, onBatch);
      for (const result of results) {
        for (const entry of result.entries) {
          const head = `${entry.alt}|${entry.gene}|${entry.strand}`;
          if (!entry.delta || !entry.rows) {
            entry.text = `${head}${'|.'.repeat(RAW_ENTRY_FIELDS.length - 3)}`;
            continue;
          }
          const aligned = alignAltRows(entry.rows.alt, result.variant.ref.length, entry.alt.length, scorer.dist);
          const p = deltaProbabilities(entry.delta, entry.rows.ref, aligned, scorer.dist);
          const probabilities = [0, 1, 2, 3].flatMap((k) => [fmt(p.ref[k]), fmt(p.alt[k])]);
          entry.text = [head, ...entry.delta.scores.map(fmt), ...entry.delta.positions.map(String), ...probabilities].join('|');
          entry.rows = undefined;
        }
      }
      return results;
    },
  };
}
