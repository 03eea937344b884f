#!/usr/bin/env node
// Writes the example model file models/pwm-human/50nt/splice-sites.pwm.json from published base
// frequencies at human splice sites, so the file in the repository is reproducible:
//   node scripts/build-model.mjs           write it
//   node scripts/build-model.mjs --check   exit 1 when the file in the repository differs
//
// The frequencies are derived from the published consensus of human splice sites (Shapiro &
// Senapathy 1987, "RNA splice junctions of different classes of eukaryotes", Nucleic Acids Res
// 15:7155, doi:10.1093/nar/15.17.7155): donor MAG|GTRAGT, acceptor (Y)n N C AG|G. Each IUPAC
// symbol of the consensus becomes a base distribution by the fixed rules in FREQUENCY_RULES below,
// so every number in the model file follows from the consensus and these rules, nothing else.
//
// Positions are numbered from the exon-intron boundary, as in those tables: a donor's -3..-1 are
// the last three exonic bases and +1..+6 the first six intronic ones (GT at +1, +2); an acceptor's
// -25..-1 are the last intronic bases (AG at -2, -1) and +1, +2 the first exonic ones.
//
// The model labels sites where SpliceAI does: a donor at the last exonic base (donor row -1,
// anchor 2) and an acceptor at the first exonic base (acceptor row +1, anchor 25). The acceptor
// reaches 25 bases upstream of its label, so the model needs 25 on each side: context 50.
//
// Priors (the logistic transform's constants, see src/scorer.ts): 1 in 4000 positions per class,
// about the density of splice sites along human pre-mRNA (genes of some 30 kb with about 8 introns
// each). They only shift where a score crosses a probability; the ranking of sites is the PWM's.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VERSION = '1.0.0';
const CONTEXT = 50;
const PRIOR = 1 / 4000;

/**
 * How much of a position's probability the consensus base(s) get. Invariant dinucleotides (GT, AG)
 * are near-certain; single consensus bases are strong preferences; two-base symbols (M, R, Y) split
 * theirs; lower-case y marks the weak, distal end of the polypyrimidine tract; N is uniform.
 */
const FREQUENCY_RULES = { invariant: 0.998, single: 0.6, pair: 0.8, weakPair: 0.65 };
const BASES = ['A', 'C', 'G', 'T'];
const IUPAC = { A: 'A', C: 'C', G: 'G', T: 'T', M: 'AC', R: 'AG', Y: 'CT', y: 'CT', N: 'ACGT' };

/** A base distribution [A, C, G, T] for one consensus symbol; `!` marks an invariant base. */
function frequencies(symbol) {
  const invariant = symbol.endsWith('!');
  const code = symbol.replace('!', '');
  const favoured = IUPAC[code];
  if (favoured.length === 4) return [0.25, 0.25, 0.25, 0.25];
  const mass = invariant
    ? FREQUENCY_RULES.invariant
    : favoured.length === 1
      ? FREQUENCY_RULES.single
      : code === 'y'
        ? FREQUENCY_RULES.weakPair
        : FREQUENCY_RULES.pair;
  const inside = mass / favoured.length;
  const outside = (1 - mass) / (4 - favoured.length);
  return BASES.map((b) => Number((favoured.includes(b) ? inside : outside).toFixed(4)));
}

// The consensus, position by position from the exon-intron boundary.
const DONOR = {
  positions: '-3..+6',
  consensus: ['M', 'A', 'G', 'G!', 'T!', 'R', 'A', 'G', 'T'], // MAG|GTRAGT
  anchor: 2,
};
const ACCEPTOR = {
  positions: '-25..+2',
  // (Y)n: a weak distal tract (-25..-15), a strong proximal one (-14..-5), then N C A G | G N.
  consensus: [...Array(11).fill('y'), ...Array(10).fill('Y'), 'N', 'C', 'A!', 'G!', 'G', 'N'],
  anchor: 25,
};

/** Per-position rows [A, C, G, T] from the consensus. */
function motif(table) {
  return { anchor: table.anchor, prior: PRIOR, positions: table.positions, frequencies: table.consensus.map(frequencies) };
}

const model = {
  format: 'metaspliceai-pwm',
  formatVersion: 1,
  name: 'pwm-human',
  version: VERSION,
  context: CONTEXT,
  background: [0.25, 0.25, 0.25, 0.25],
  motifs: { acceptor: motif(ACCEPTOR), donor: motif(DONOR) },
  source: 'base distributions derived from the splice-site consensus by the rules in scripts/build-model.mjs',
  citation:
    'Shapiro MB, Senapathy P. RNA splice junctions of different classes of eukaryotes: sequence statistics and functional implications in gene expression. Nucleic Acids Res. 1987;15(17):7155-74 (the consensus)',
  generatedBy: 'examples/adapter-pwm/scripts/build-model.mjs',
};

// One matrix row per line keeps the file small and readable.
const text = `${JSON.stringify(model, null, 2).replace(/\[\s+([-\d.e]+),\s+([-\d.e]+),\s+([-\d.e]+),\s+([-\d.e]+)\s+\]/g, '[$1, $2, $3, $4]')}\n`;
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'models', 'pwm-human', `${CONTEXT}nt`, 'splice-sites.pwm.json');

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(out, 'utf8');
  } catch {
    // missing: reported below
  }
  if (current !== text) {
    console.error(`${out} differs from what scripts/build-model.mjs generates; run: node scripts/build-model.mjs`);
    process.exit(1);
  }
  console.log(`${out} is up to date`);
} else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.log(`wrote ${out}`);
}
