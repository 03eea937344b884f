/**
 * @metaspliceai/genomics: runs the base models of @metaspliceai/core over genomes and variants.
 * What a user needs; helpers behind these stay inside the package.
 */

// Input: FASTA (plain or bgzip), VCF, text lines, sequences and regions.
export { type FastaReader, openFasta } from './io/fasta.js';
export { type FastaRecordInput, readFastaRecords, type ReadFastaRecordsOptions } from './io/fasta-records.js';
export { openVcf, SPLICEAI_INFO_HEADER, type VcfHeader, type VcfLine, type VcfReader, type VcfVariant } from './io/vcf.js';
export { inputBytes, readTextLines, type TextInput, type TextLine } from './io/lines.js';
export { type ParsedSequence, parseSequenceText } from './sequence/parse.js';
export { formatRegion, type GenomicRegion, parseRegion } from './sequence/regions.js';

// Inference over sequences, FASTA records, regions and genes.
export {
  fastaRecordInputs,
  fastaRegionInput,
  type GeneInputOptions,
  geneInputs,
  type GeneLike,
  type QueryStrand,
  type RegionInputOptions,
  rowPosition,
  sequenceInput,
  type SequenceInput,
  type SequenceLocus,
} from './inference/sequence-input.js';
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_TILE_SIZE,
  INFERENCE_MODES,
  type InferenceMode,
  type InferenceStage,
  type PredictionEvent,
  SequenceInference,
  type SequenceInferenceOptions,
  type SequencePrediction,
} from './inference/sequence-inference.js';
export { sequenceInferenceOptionsSchema } from './inference/sequence-inference-options.js';

// Output: prediction writers (TSV, BED, bedGraph, JSON Lines), atomic text output, bgzip.
export { predictionWriterOptionsSchema } from './io/prediction-writer-options.js';
export {
  createPredictionWriter,
  DEFAULT_BED_THRESHOLD,
  PREDICTION_FORMATS,
  type PredictionFormat,
  type PredictionWriter,
  type PredictionWriterOptions,
  writePredictions,
} from './io/prediction-writers.js';
export { TextOutput } from './io/text-output.js';
export { BGZF_EOF, createBgzfStream } from './io/bgzf-writer.js';

// Annotations: GTF/GFF3, the compiled annotation table, built-in tables, transcript lookup.
export { type GeneModel, type GeneModelGene, type GeneModelInterval, type GeneModelTranscript, type GeneStrand } from './annotations/gene-model.js';
export { readAnnotation, type ReadAnnotationOptions } from './annotations/gff.js';
export {
  ANNOTATION_TABLE_COLUMNS,
  type AnnotationRecord,
  type AnnotationTable,
  formatAnnotationTable,
  parseAnnotationTable,
  readAnnotationTable,
} from './annotations/table.js';
export { compileAnnotationTable, type CompileOptions, type CompileStats, transcriptToRecord } from './annotations/compile.js';
export {
  type AnnotationFormat,
  BUILTIN_ANNOTATIONS,
  loadAnnotation,
  type LoadAnnotationOptions,
  type LoadedAnnotation,
  sniffAnnotationFormat,
} from './annotations/source.js';
export { AnnotationIndex, type TranscriptHit } from './annotations/lookup.js';

// Variant scoring: the scorer, its rules, VCF annotation and raw probabilities.
export {
  type AlleleScore,
  SKIP_REASONS,
  type SkipReason,
  SPLICEAI_RULE_TRACKS,
  type VariantInput,
  type VariantScore,
  VariantScorer,
  type VariantScorerOptions,
} from './variants/scorer.js';
export { MAX_SCORING_DISTANCE, variantScorerOptionsSchema } from './variants/scorer-options.js';
export { computeDeltaScores, DELTA_EVENTS, type DeltaInput, type DeltaScores, formatDeltaEntry } from './variants/delta.js';
export { formatFixed } from './variants/format.js';
export { alignAltRows, deltaProbabilities, type DeltaProbabilities, predictReferenceRows, type ReferenceRowsInput } from './variants/probabilities.js';
export {
  annotateVcf,
  type AnnotateVcfOptions,
  type AnnotateVcfSummary,
  type RecordScorer,
  UNSCORED_LABELS,
  type UnscoredReason,
  type VcfWarning,
} from './variants/annotate-vcf.js';
export { RAW_ENTRY_FIELDS, RAW_INFO_HEADER, rawEntryScorer } from './variants/raw-entries.js';
export { checkRuleTracks, PANGOLIN_RULE, SCORING_RULES, scoringRule, type ScoringRule, SPLICEAI_RULE } from './variants/rules/index.js';
export { PANGOLIN_INFO_HEADER, PANGOLIN_SITE_TRACKS, PangolinScorer, type PangolinScorerOptions } from './variants/rules/pangolin.js';
export { pangolinScorerOptionsSchema } from './variants/rules/pangolin-options.js';
export { type GenesAtPosition, type LoadedPangolinGenes, loadPangolinGenes, type PangolinGene, PangolinGenes } from './variants/rules/pangolin-genes.js';
export { formatPangolinScore } from './variants/rules/pangolin-format.js';

// Evaluation against annotated splice sites.
export { EVALUATE_DEFAULTS, type EvaluateOptions, type EvaluationSummary, type GeneStatus, runEvaluation } from './evaluate/runner.js';
export { mergeEvaluations, type RunRecord } from './evaluate/outputs.js';
export {
  geneModelFromTable,
  type GeneSelection,
  type GeneSelectionOptions,
  type SelectedGene,
  selectGenes,
  type TranscriptChoice,
  type UnmatchedGene,
} from './evaluate/genes.js';
export {
  type ErrorRow,
  type GeneLabels,
  type GeneScores,
  labelGene,
  type LabelledGene,
  type LabelOptions,
  type PositionRow,
  type PredType,
  type SiteCounts,
  type TnSample,
} from './evaluate/labels.js';
export { annotatedSites, type AnnotatedSites, SITE_TYPES, type SiteType } from './evaluate/sites.js';
export { precisionRecallF1, type RankedPosition, rankingMetrics, type SiteTypeMetrics } from './evaluate/metrics.js';
export {
  type ColumnKind,
  ERRORS_TABLE,
  EVALUATION_TABLES,
  MANIFEST_TABLE,
  NUCLEOTIDES_TABLE,
  POSITIONS_TABLE,
  type TableFormat,
  type TableSpec,
} from './evaluate/tables.js';
