import { describe, expect, it } from 'vitest';
import { encodeSequence, predictCodes, reverseComplement } from '@metaspliceai/core';
import { compileMotif, createPwmAdapter, motifScore, readPwmModelFile, siteProbabilities } from '../src/index.js';
import { fixtureSequence, MODEL_FILE, tubb8Exons } from './fixtures.js';

describe('the PWM scorer', () => {
  it('scores the consensus donor highest, counts N as background, and gives probabilities that sum to 1', async () => {
    const file = await readPwmModelFile(MODEL_FILE);
    const donor = compileMotif(file.motifs.donor, file.background);
    const acceptor = compileMotif(file.motifs.acceptor, file.background);
    // CAG|GTAAGT, labelled at the G before GT (index 2 of the 9-mer).
    const consensus = encodeSequence('CAGGTAAGT');
    const best = motifScore(donor, consensus, 2);
    let max = 0;
    for (let r = 0; r < donor.rows; r++) max += Math.max(...[1, 2, 3, 4].map((c) => donor.logOdds[r * 5 + c]));
    expect(best).toBeCloseTo(max, 10);
    expect(best).toBeGreaterThan(10);
    expect(motifScore(donor, encodeSequence('CAGCTAAGT'), 2)).toBeLessThan(best - 8); // no GT, no donor
    expect(motifScore(donor, encodeSequence('NNNNNNNNN'), 2)).toBe(0);
    const [n, a, d] = siteProbabilities(acceptor, donor, -5, best);
    expect(n + a + d).toBeCloseTo(1, 12);
    expect(d).toBeGreaterThan(1000 * file.motifs.donor.prior); // a consensus donor is far likelier than the prior
    const background = siteProbabilities(acceptor, donor, 0, 0);
    expect(background[1]).toBeCloseTo(file.motifs.acceptor.prior, 6);
    expect(background[2]).toBeCloseTo(file.motifs.donor.prior, 6);
  });

  it('ranks the annotated TUBB8 exon boundaries at the top of a 3-kb window (gene strand)', async () => {
    const { header, sequence } = fixtureSequence('tubb8_window');
    const first = Number(/chr10:(\d+)-/.exec(header)![1]);
    const last = first + sequence.length - 1;
    const { strand, exons } = tubb8Exons();
    expect(strand).toBe('-');
    // On '-' the gene reads from high to low coordinates: row k of the reverse complement is
    // position last - k. SpliceAI's labels: an acceptor at the first exonic base (the high end of
    // an exon after the first), a donor at the last exonic base (the low end of an exon before the last).
    const byGene = [...exons].sort((x, y) => y[0] - x[0]);
    const inside = (p: number) => p - 25 >= first && p + 25 <= last;
    const acceptors = byGene
      .slice(1)
      .map(([, end]) => end)
      .filter(inside);
    const donors = byGene
      .slice(0, -1)
      .map(([start]) => start)
      .filter(inside);
    expect(acceptors).toEqual([94852, 94665, 94054]);
    expect(donors).toEqual([95122, 94744, 94555]);

    const adapter = createPwmAdapter();
    const model = await adapter.load({ file: MODEL_FILE, context: 50 });
    const rc = reverseComplement(sequence);
    const out = await predictCodes(model, encodeSequence(rc));
    const rank = (cls: 1 | 2) => {
      const order = Array.from({ length: rc.length }, (_, k) => k).sort((x, y) => out[y * 3 + cls] - out[x * 3 + cls]);
      return { order, of: (p: number) => order.indexOf(last - p) + 1 };
    };
    const acc = rank(1);
    const don = rank(2);
    // The best acceptor in the window is the exon-2 acceptor; every annotated site is in the top 1%.
    expect(last - acc.order[0]).toBe(94852);
    for (const p of acceptors) expect(acc.of(p), `acceptor ${p}`).toBeLessThanOrEqual(30);
    for (const p of donors) expect(don.of(p), `donor ${p}`).toBeLessThanOrEqual(30);
    // What a PWM learns from these frequencies: its best sites carry the canonical dinucleotides.
    for (const k of don.order.slice(0, 20)) expect(rc.slice(k + 1, k + 3)).toBe('GT');
    for (const k of acc.order.slice(0, 20)) expect(rc.slice(k - 2, k)).toBe('AG');
    // The labels sit where SpliceAI puts them: one base off scores far lower.
    for (const p of [...acceptors, ...donors]) {
      const cls = acceptors.includes(p) ? 1 : 2;
      const k = last - p;
      expect(out[k * 3 + cls]).toBeGreaterThan(100 * Math.max(out[(k - 1) * 3 + cls], out[(k + 1) * 3 + cls]));
    }
    await model.dispose();
  });
});
