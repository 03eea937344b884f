import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, type LoadedModel, SPLICE_CLASS_TRACKS } from '@metaspliceai/core';
import {
  checkRuleTracks,
  type FastaReader,
  formatPangolinScore,
  type GeneModel,
  type GeneModelGene,
  openFasta,
  PANGOLIN_SITE_TRACKS,
  PangolinScorer,
  scoringRule,
  VariantScorer,
} from '@metaspliceai/genomics';
import { pythonFloatRepr, roundFloat32 } from '../src/variants/rules/pangolin-format.js';
import { mockStagedModel } from '@metaspliceai/core/testing';

const FIXTURES = join(__dirname, '../../../../shared/fixtures/pangolin');

describe('Pangolin number format (numpy round in the dtype, printed as a Python float)', () => {
  it('prints float32 roundings as their float64 repr and float64 ones short', () => {
    expect(formatPangolinScore(Math.fround(0.10855738073587418), 'float32')).toBe('0.10999999940395355');
    expect(formatPangolinScore(Math.fround(-0.6884662508964539), 'float32')).toBe('-0.6899999976158142');
    expect(formatPangolinScore(Math.fround(0.011), 'float32')).toBe('0.009999999776482582');
    expect(formatPangolinScore(0.4595237808922927, 'float64')).toBe('0.46');
    expect(formatPangolinScore(-0.8786440268158913, 'float64')).toBe('-0.88');
  });

  it('keeps the sign of a zero and writes .0', () => {
    expect(formatPangolinScore(Math.fround(-0.00012886400509160012), 'float32')).toBe('-0.0');
    expect(formatPangolinScore(0, 'float32')).toBe('0.0');
    expect(formatPangolinScore(1, 'float64')).toBe('1.0');
    expect(pythonFloatRepr(1e-5)).toBe('1e-05');
    expect(pythonFloatRepr(-2.5e-7)).toBe('-2.5e-07');
    expect(pythonFloatRepr(1e16)).toBe('1e+16');
  });

  it("rounds the scaled float32 half to even, as numpy does, not as Python's round", () => {
    // float32 -0.985 is -0.98500001430511...; times 100 in float32 is exactly -98.5, which rint takes to -98.
    expect(roundFloat32(Math.fround(-0.985))).toBe(Math.fround(-0.98));
    expect(formatPangolinScore(Math.fround(-0.985), 'float32')).toBe('-0.9800000190734863');
    expect(formatPangolinScore(0.125, 'float64')).toBe('0.12');
    expect(formatPangolinScore(0.375, 'float64')).toBe('0.38');
  });

  it("gives upstream's strings from the fixtures' unrounded values", () => {
    const fixture = JSON.parse(readFileSync(join(FIXTURES, 'variant_cases.json'), 'utf8')) as {
      cases: {
        name: string;
        expected: string[] | null;
        raw?: { gene: string; dtype: 'float32' | 'float64'; gain: number; loss: number; gain_pos: number; loss_pos: number; warnings: string }[];
      }[];
    };
    let checked = 0;
    for (const c of fixture.cases) {
      if (!c.expected) continue;
      const entries = c.raw!.map((r) => {
        const x = (v: number) => (r.dtype === 'float32' ? Math.fround(v) : v);
        return `${r.gene}|${r.gain_pos}:${formatPangolinScore(x(r.gain), r.dtype)}|${r.loss_pos}:${formatPangolinScore(x(r.loss), r.dtype)}|${r.warnings}`;
      });
      expect(entries.join(','), c.name).toBe(c.expected[0]);
      checked++;
    }
    expect(checked).toBe(7);
  });
});

describe('scoring rules', () => {
  it("refuse a model without their tracks, naming the rule, the tracks it needs and the model's", () => {
    expect(() => checkRuleTracks(scoringRule('pangolin'), SPLICE_CLASS_TRACKS)).toThrow(
      /scoring rule "pangolin" needs the tracks p_splice_heart, p_splice_liver, p_splice_brain, p_splice_testis; the model has neither, acceptor, donor/,
    );
    expect(() =>
      checkRuleTracks(
        scoringRule('spliceai'),
        PANGOLIN_SITE_TRACKS.map((name) => ({ name, kind: 'site-probability' as const })),
      ),
    ).toThrow(/"spliceai" needs the tracks acceptor, donor/);
    expect(() => checkRuleTracks(scoringRule('spliceai'), SPLICE_CLASS_TRACKS)).not.toThrow();
    expect(() => scoringRule('mmsplice')).toThrow(InvalidArgumentError);
    expect(() => scoringRule('mmsplice')).toThrow(/the rules are spliceai, pangolin/);
  });
});

// A toy model with Pangolin's site tracks: context 4, and each output depends only on its own base:
// P(site) = [0, 0.1, 0.2, 0.3, 0.4][code] * (tissue + 1) / 4, so a change moves only its own rows.
const VALUE = [0, 0.1, 0.2, 0.3, 0.4];
function toyModel(): LoadedModel {
  return {
    context: 4,
    tracks: PANGOLIN_SITE_TRACKS.flatMap((name) => [
      { name, kind: 'site-probability' as const, site: 'any' as const },
      { name: name.replace('p_splice', 'usage'), kind: 'usage' as const },
    ]),
    backend: 'js',
    device: 'cpu',
    async predict({ codes, batch, length }) {
      const outputs = length - 4;
      const out = new Float32Array(batch * outputs * 8);
      for (let b = 0; b < batch; b++) {
        for (let i = 0; i < outputs; i++) {
          const code = codes[b * length + i + 2];
          for (let t = 0; t < 4; t++) out[(b * outputs + i) * 8 + 2 * t] = (VALUE[code] * (t + 1)) / 4;
        }
      }
      return out;
    },
    async dispose() {},
  };
}

//              1234567890123456789012345678901234567890
const GENOME = 'GGGGGGGGGGGGGGGGGGGACGTGGGGGGGGGGGGGGGGG';
const fasta: FastaReader = {
  path: 'toy.fa',
  names: async () => ['chr1'],
  length: async (name) => (name === 'chr1' ? GENOME.length : undefined),
  fetch: async (_name, start, end) => GENOME.slice(Math.max(start, 0), end).toLowerCase(),
  resolveName: async (name) => (name === 'chr1' || name === '1' ? 'chr1' : undefined),
};

function gene(id: string, strand: '+' | '-', sites: [number, number][], tags = ['Ensembl_canonical']): GeneModelGene {
  return {
    id,
    name: id,
    chrom: 'chr1',
    strand,
    start: 5,
    end: 35,
    transcripts: [
      {
        id: `${id}.t`,
        geneId: id,
        geneName: id,
        chrom: 'chr1',
        strand,
        start: 5,
        end: 35,
        tags,
        exons: sites.map(([start, end]) => ({ start, end })),
        cds: [],
      },
    ],
  };
}
const genes = (...list: GeneModelGene[]): GeneModel => ({ source: 'toy.gtf', format: 'gtf', chroms: ['chr1'], genes: list });

async function score(
  model: GeneModel,
  variant: { pos: number; ref: string; alts: string[]; chrom?: string },
  options: { mask?: boolean; dist?: number; cutoff?: number } = {},
) {
  const scorer = new PangolinScorer({ model: toyModel(), fasta, genes: model, dist: options.dist ?? 2, mask: options.mask ?? false, cutoff: options.cutoff });
  return scorer.score({ chrom: variant.chrom ?? '1', pos: variant.pos, ref: variant.ref, alts: variant.alts });
}

const f32 = (x: number) => formatPangolinScore(Math.fround(x), 'float32');
/** The toy's float32 change at one base from code a to code b, for tissue t. */
const change = (a: number, b: number, t: number) => Math.fround(Math.fround((VALUE[b] * (t + 1)) / 4) - Math.fround((VALUE[a] * (t + 1)) / 4));

describe('PangolinScorer (upstream pangolin.py step for step, on a toy model)', () => {
  it('scores a substitution: gain and loss over tissues, offsets from POS, first index on ties', async () => {
    // 20 A>T: the change is +0.3 * (t+1)/4, largest in testis; no loss anywhere (first 0 wins).
    const r = await score(genes(gene('G1', '+', [])), { pos: 20, ref: 'A', alts: ['T', 'C'] });
    expect(r.skipped).toBeUndefined();
    expect(r.entries.map((e) => e.text)).toEqual([`G1|0:${f32(change(1, 4, 3))}|-2:0.0|Warnings:`]);
    expect(r.ignoredAlts).toEqual(['C']); // only the first ALT is scored
  });

  it("masks in place: a later gene on the same strand sees an earlier gene's masks (upstream issue 29)", async () => {
    // 21 C>A lowers P(site) at 21: loss -0.1 (testis). G-SITE annotates 21; G-NONE has no canonical exons.
    const site = gene('G-SITE', '+', [[10, 21]]);
    const none = gene('G-NONE', '+', [[10, 21]], ['basic']);
    const loss = f32(change(2, 1, 3));
    const first = await score(genes(site, none), { pos: 21, ref: 'C', alts: ['A'] }, { mask: true });
    expect(first.entries.map((e) => e.text)).toEqual([`G-SITE|-2:0.0|0:${loss}|Warnings:`, 'G-NONE|-2:0.0|-2:0.0|Warnings:NoAnnotatedSitesToMaskForThisGene']);
    // The other order: G-NONE clamps every loss first, so G-SITE's own site loss is gone.
    const leaked = await score(genes(none, site), { pos: 21, ref: 'C', alts: ['A'] }, { mask: true });
    expect(leaked.entries.map((e) => e.text)).toEqual(['G-NONE|-2:0.0|-2:0.0|Warnings:NoAnnotatedSitesToMaskForThisGene', 'G-SITE|-2:0.0|-2:0.0|Warnings:']);
    // Unmasked, both see the loss.
    const plain = await score(genes(none, site), { pos: 21, ref: 'C', alts: ['A'] });
    expect(plain.entries.map((e) => e.text)).toEqual([`G-NONE|-2:0.0|0:${loss}|Warnings:`, `G-SITE|-2:0.0|0:${loss}|Warnings:`]);
  });

  it("runs '+' genes before '-' genes, the '-' strand reverse-complemented and read back in genome order", async () => {
    // 20 A>C on '-': the model sees the complement, T>G: VALUE 0.4 -> 0.3, a loss of 0.1 in testis.
    const r = await score(genes(gene('MINUS', '-', []), gene('PLUS', '+', [])), { pos: 20, ref: 'A', alts: ['C'] });
    expect(r.entries.map((e) => `${e.strand}${e.gene}`)).toEqual(['+PLUS', '-MINUS']);
    expect(r.entries[1].text).toBe(`MINUS|-2:0.0|0:${f32(change(4, 3, 3))}|Warnings:`);
    expect(r.entries[0].text).toBe(`PLUS|0:${f32(change(1, 2, 3))}|-2:0.0|Warnings:`);
  });

  it('fills a deletion with zeros after row d, in float64 (short numbers)', async () => {
    // 20 AC>A deletes the C at 21: its row becomes 0 - 0.2*(t+1)/4, a float64 loss of -0.2 at +1.
    const r = await score(genes(gene('G1', '+', [])), { pos: 20, ref: 'AC', alts: ['A'] });
    expect(r.entries[0].text).toBe('G1|-2:0.0|1:-0.2|Warnings:');
  });

  it("keeps the largest of an insertion's rows at POS, in float32", async () => {
    // 20 A>ACT: rows of A, C, T at POS; the largest is T (0.4), a gain of 0.3 in testis.
    const r = await score(genes(gene('G1', '+', [])), { pos: 20, ref: 'A', alts: ['ACT'] });
    expect(r.entries[0].text).toBe(`G1|0:${f32(change(1, 4, 3))}|-2:0.0|Warnings:`);
  });

  it('lists every position past a cutoff (-s): gains, then losses', async () => {
    const r = await score(genes(gene('G1', '+', [])), { pos: 20, ref: 'AC', alts: ['TA'] }, { cutoff: 0.05 });
    // 20 A>T: +0.3 -> gain 0.3 (testis); 21 C>A: -0.1 -> loss -0.1.
    expect(r.entries[0].text).toBe(`G1|0:${f32(change(1, 4, 3))}|1:${f32(change(2, 1, 3))}|Warnings:`);
  });

  it("skips as upstream does, in upstream's order, with upstream's messages", async () => {
    const model = genes(gene('G1', '+', []));
    const why = async (v: { pos: number; ref: string; alts: string[]; chrom?: string }, options = {}) => (await score(model, v, options)).skipped?.message;
    expect(await why({ pos: 20, ref: 'a', alts: ['T'] })).toBe('WARNING, skipping variant: Variant format not supported.'); // case-sensitive
    expect(await why({ pos: 20, ref: 'AC', alts: ['TGA'] })).toBe('WARNING, skipping variant: Variant format not supported.');
    expect(await why({ pos: 20, ref: 'A', alts: ['<DEL>'] })).toBe('WARNING, skipping variant: Variant format not supported.');
    expect(await why({ pos: 20, ref: 'ACGTG', alts: ['A'] })).toBe('WARNING, skipping variant: Deletion too large');
    expect(await why({ pos: 20, ref: 'C', alts: ['T'] })).toBe(
      'WARNING, skipping variant: Mismatch between FASTA (ref base: A) and variant file (ref base: C).',
    );
    expect(await why({ pos: 5, ref: 'G', alts: ['T'] })).toBe(
      'WARNING, skipping variant: Variant not contained in a gene body. Do GTF/FASTA chromosome names match?',
    ); // start < pos
    expect(await why({ pos: 20, ref: 'A', alts: ['T'], chrom: 'chr2' })).toMatch(/^WARNING, skipping variant: Could not get sequence/);
    expect(await why({ pos: 2, ref: 'G', alts: ['T'] })).toMatch(/^WARNING, skipping variant: Could not get sequence/);
    expect(await why({ pos: 6, ref: 'G', alts: ['T'] })).toBeUndefined(); // start < pos <= end
    expect(await why({ pos: 35, ref: 'G', alts: ['T'] })).toBeUndefined();
  });
});

describe('the spliceai rule reads its tracks by name', () => {
  /** The model's rows as [extra, donor, neither, acceptor]: another order and a track the rule never reads. */
  function reordered(model: LoadedModel): LoadedModel {
    const shuffle = (rows: Float32Array) => {
      const out = new Float32Array((rows.length / 3) * 4);
      for (let p = 0; p < rows.length / 3; p++) out.set([0.5, rows[p * 3 + 2], rows[p * 3], rows[p * 3 + 1]], p * 4);
      return out;
    };
    const stages = model.stages!;
    return {
      ...model,
      tracks: [{ name: 'extra', kind: 'usage' }, SPLICE_CLASS_TRACKS[2], SPLICE_CLASS_TRACKS[0], SPLICE_CLASS_TRACKS[1]],
      predict: async (batch) => {
        calls.predict++;
        return shuffle(await model.predict(batch));
      },
      stages: {
        ...stages,
        runFirst: (b) => stages.runFirst(b),
        runMiddle: (k, s) => stages.runMiddle(k, s),
        runLast: async (s) => shuffle(await stages.runLast(s)),
      },
    };
  }
  const calls = { predict: 0 };

  it('gives the same strings with tracks in another order, and substitutions still run as cones', async () => {
    let seed = 3;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let chr1 = '';
    for (let i = 0; i < 1200; i++) chr1 += 'ACGT'[Math.floor(next() * 4)];
    const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-rule-'));
    await fs.writeFile(join(dir, 'g.fa'), `>chr1\n${chr1}\n`);
    const fastaFile = await openFasta(join(dir, 'g.fa'));
    const annotation = {
      source: 't',
      rows: [{ name: 'G', chrom: '1', strand: '+' as const, txStart: 100, txEnd: 1100, exonStarts: [100, 600], exonEnds: [400, 1100] }],
    };
    const model = mockStagedModel([3, 10, 4, 23]);
    const variants = [300, 401, 599, 650, 700].map((pos) => ({ chrom: '1', pos, ref: chr1[pos - 1], alts: [chr1[pos - 1] === 'A' ? 'G' : 'A'] }));
    const plain = await new VariantScorer({ model, fasta: fastaFile, annotation, dist: 20 }).scoreMany(variants);
    calls.predict = 0;
    const viewed = await new VariantScorer({ model: reordered(model), fasta: fastaFile, annotation, dist: 20 }).scoreMany(variants);
    expect(viewed.map((r) => r.entries.map((e) => e.text))).toEqual(plain.map((r) => r.entries.map((e) => e.text)));
    expect(plain.some((r) => r.entries.some((e) => e.delta!.scores.some((s) => Math.abs(s) > 0.01)))).toBe(true);
    expect(calls.predict).toBe(0);
    await fs.rm(dir, { recursive: true, force: true });
  });
});

describe('PangolinScorer on a staged model', () => {
  /** A staged mock's 3 outputs as 4 site tracks [a, b, c, a - c] (any staged network will do). */
  function stagedSites(): { model: LoadedModel; calls: { predict: number } } {
    const inner = mockStagedModel([3, 10, 4, 23]);
    const calls = { predict: 0 };
    const widen = (rows: Float32Array) => {
      const out = new Float32Array((rows.length / 3) * 4);
      for (let p = 0; p < rows.length / 3; p++) out.set([rows[p * 3], rows[p * 3 + 1], rows[p * 3 + 2], rows[p * 3] - rows[p * 3 + 2]], p * 4);
      return out;
    };
    const stages = inner.stages!;
    return {
      calls,
      model: {
        ...inner,
        tracks: PANGOLIN_SITE_TRACKS.map((name) => ({ name, kind: 'site-probability' as const, site: 'any' as const })),
        predict: async (batch) => {
          calls.predict++;
          return widen(await inner.predict(batch));
        },
        stages: {
          reach: stages.reach,
          channels: stages.channels,
          runFirst: (b) => stages.runFirst(b),
          runMiddle: (k, x) => stages.runMiddle(k, x),
          runLast: async (x) => widen(await stages.runLast(x)),
        },
      },
    };
  }

  it('shares one reference between nearby variants and recomputes only what each changes (indels too): the strings of whole windows', async () => {
    let seed = 17;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let chr1 = '';
    for (let i = 0; i < 3000; i++) chr1 += 'ACGT'[Math.floor(next() * 4)];
    const genome: FastaReader = {
      path: 'random.fa',
      names: async () => ['chr1'],
      length: async (n) => (n === 'chr1' ? chr1.length : undefined),
      fetch: async (_n, a, b) => chr1.slice(Math.max(a, 0), b),
      resolveName: async (n) => (n === 'chr1' ? n : undefined),
    };
    const plus = gene('PLUS', '+', [
      [300, 700],
      [1200, 1500],
    ]);
    const minus = gene('MINUS', '-', [
      [900, 1100],
      [2000, 2600],
    ]);
    plus.start = minus.start = 100;
    plus.end = minus.end = 2900;
    const model = genes(plus, minus);
    const variants = [250, 300, 301, 640, 700, 701, 1499, 1500, 2500, 2620].flatMap((pos, i) => {
      const ref = chr1.slice(pos - 1, pos - 1 + (i % 3 === 2 ? 2 : 1));
      const flip = (b: string) => ({ A: 'G', C: 'T', G: 'A', T: 'C' })[b]!;
      return [
        { chrom: 'chr1', pos, ref, alts: [[...ref].map(flip).join('')] },
        { chrom: 'chr1', pos, ref: ref[0], alts: [ref[0] + 'TGA'.slice(0, 1 + (i % 3))] },
        { chrom: 'chr1', pos, ref: chr1.slice(pos - 1, pos + 2 + (i % 4)), alts: [chr1[pos - 1]] },
      ];
    });
    const { model: staged, calls } = stagedSites();
    for (const mask of [false, true]) {
      const whole = await new PangolinScorer({ model: staged, fasta: genome, genes: model, dist: 20, mask, recomputeChangesOnly: false }).scoreMany(variants);
      // Substitutions, insertions and deletions alike: cones only, whatever the batch size.
      for (const batchSize of [undefined, 3, 4]) {
        calls.predict = 0;
        const scorer = new PangolinScorer({ model: staged, fasta: genome, genes: model, dist: 20, mask, batchSize });
        // Without a batch size, cones run one per stage call (the grouped trunk fills the threads) and whole windows four.
        expect([scorer.coneBatchSize, scorer.batchSize]).toEqual(batchSize ? [batchSize, batchSize] : [1, 4]);
        const cones = await scorer.scoreMany(variants);
        expect(calls.predict).toBe(0);
        expect(cones.map((r) => r.entries.map((e) => e.text))).toEqual(whole.map((r) => r.entries.map((e) => e.text)));
      }
    }
    expect(new Set(variants.map((v) => v.pos)).size).toBe(10);
  });
});
