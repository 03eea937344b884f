import { InvalidArgumentError, type OutputTrack } from '@metaspliceai/core';
import { SPLICEAI_RULE_TRACKS } from '../scorer.js';
import { PANGOLIN_SITE_TRACKS } from './pangolin.js';

/**
 * A named way of turning a model's tracks around a variant into a VCF INFO entry. Families declare
 * their default (`BaseModelAdapter.scoring.defaultRule`); any model with the tracks a rule reads
 * can be scored with it.
 */
export interface ScoringRule {
  readonly name: string;
  /** The VCF INFO key its entries go under. */
  readonly infoKey: string;
  /** One line for help and errors. */
  readonly summary: string;
  /** The track names it reads. */
  readonly tracks: readonly string[];
}

/**
 * SpliceAI's VCF entry (`VariantScorer`). Rule names are the published output formats they write,
 * declared here once; code elsewhere refers to these objects, not to the names.
 */
export const SPLICEAI_RULE: ScoringRule = {
  name: 'spliceai',
  infoKey: 'SpliceAI',
  summary: 'SpliceAI delta scores ALT|GENE|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL, window context + 2*D + 1, N outside the transcript',
  tracks: SPLICEAI_RULE_TRACKS.filter((t) => t !== 'neither'),
};

/** Pangolin's VCF entry (`PangolinScorer`). */
export const PANGOLIN_RULE: ScoringRule = {
  name: 'pangolin',
  infoKey: 'Pangolin',
  summary:
    "Pangolin's gene|pos:gain|pos:loss|Warnings: from P(splice) per tissue (first ALT only; the genome itself around the variant; Ensembl_canonical exons mask)",
  tracks: PANGOLIN_SITE_TRACKS,
};

export const SCORING_RULES: readonly ScoringRule[] = [SPLICEAI_RULE, PANGOLIN_RULE];

/** The rule of that name, or an InvalidArgumentError listing the rules there are. */
export function scoringRule(name: string): ScoringRule {
  const rule = SCORING_RULES.find((r) => r.name === name);
  if (!rule) {
    throw new InvalidArgumentError(`there is no scoring rule "${name}"; the rules are ${SCORING_RULES.map((r) => r.name).join(', ')}`, {
      hint: "leave --rule out to use the model family's default",
    });
  }
  return rule;
}

/**
 * Refuses a rule whose tracks the model lacks, naming the rule, the tracks it needs and the
 * model's tracks, so the choice fails before any variant is read.
 */
export function checkRuleTracks(rule: ScoringRule, tracks: readonly OutputTrack[], model = 'the model'): void {
  const names = new Set(tracks.map((t) => t.name));
  const missing = rule.tracks.filter((t) => !names.has(t));
  if (missing.length > 0) {
    throw new InvalidArgumentError(
      `scoring rule "${rule.name}" needs the tracks ${rule.tracks.join(', ')}; ${model} has ${tracks.map((t) => t.name).join(', ')} (no ${missing.join(', ')})`,
      { hint: "choose a rule with --rule (or leave it out for the family's default), or a model that has these tracks" },
    );
  }
}
