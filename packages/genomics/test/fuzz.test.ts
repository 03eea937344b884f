/**
 * Fuzzes VCF input (byte mutations, plain and gzip, through the whole annotate path): a VCF must
 * come back with every line, in order, or fail with an InputError naming it. Budget:
 * METASPLICEAI_FUZZ_SECONDS per target (default 3).
 */
import { promises as fsp, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '@metaspliceai/core';
import { annotateVcf, openFasta, VariantScorer, type VcfWarning } from '@metaspliceai/genomics';
import { mockModel } from '@metaspliceai/core/testing';
import { fuzz, fuzzTimeout, mutate, typedOutcome } from '../../../test-support/fuzz.js';
import { makeTree } from '../../../test-support/tree.js';

describe('fuzz: VCF input', () => {
  const SEQ = (() => {
    let s = '';
    let seed = 11;
    for (let i = 0; i < 1500; i++) s += 'ACGT'[(seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 30];
    return s;
  })();
  const ref = (pos: number, n = 1) => SEQ.slice(pos - 1, pos - 1 + n);
  const VCF = [
    '##fileformat=VCFv4.2',
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
    '##contig=<ID=7,length=1500>',
    '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1',
    `7\t500\trs1\t${ref(500)}\tA,C\t50\tPASS\tDP=10\tGT\t0/1`,
    `chr7\t501\t.\t${ref(501, 3)}\t${ref(501)}\t.\t.\t.\tGT\t1/1`,
    `7\t502\t.\t${ref(502)}\t${ref(502)}TT\t.\t.\tDP=3;X\tGT\t./.`,
    `7\t20\t.\t${ref(20)}\tG\t.\t.\t.\tGT\t0/1`,
    `7\t503\t.\tN\t<DEL>\t.\t.\t.\tGT\t0/1`,
    '',
  ].join('\n');
  let dir: string;
  let scorer: VariantScorer;

  beforeAll(async () => {
    dir = await makeTree({ 'g.fa': `>chr7\n${SEQ}\n` });
    const fasta = await openFasta(join(dir, 'g.fa'));
    const rows = [{ name: 'G1', chrom: 'chr7', strand: '+' as const, txStart: 100, txEnd: 1400, exonStarts: [100, 700], exonEnds: [400, 1400] }];
    scorer = new VariantScorer({ model: mockModel(40), fasta, annotation: { source: 't', rows }, dist: 10 });
  });

  /** Lines with their endings, as readTextLines splits them (on `\n`; a last line may have none). */
  const splitLines = (text: string) => text.split(/(?<=\n)/).filter((l) => l !== '');
  const bare = (line: string) => line.replace(/\r?\n$/, '');

  it(
    'mutated VCFs keep every line in order with one warning per unscored record, or fail with an InputError naming the file',
    async () => {
      const stats = await fuzz({ name: 'vcf' }, async ({ iteration, random }, record) => {
        // Mostly the records: a damaged header is one InputError, a damaged record must be kept.
        const bodyAt = VCF.indexOf('\n7\t');
        const { bytes: text, steps } = mutate(Buffer.from(VCF, 'latin1'), random, { maxMutations: 8, focus: [[bodyAt, VCF.length]], focusShare: 0.85 });
        let bytes: Uint8Array = text;
        const form = random();
        if (form < 0.15) bytes = gzipSync(text);
        else if (form < 0.25) {
          const damaged = mutate(gzipSync(text), random, { maxMutations: 2 });
          bytes = damaged.bytes;
          steps.push('gzip', ...damaged.steps);
        }
        record(bytes, steps);
        const file = join(dir, `case-${iteration}.vcf${form < 0.25 ? '.gz' : ''}`);
        writeFileSync(file, bytes);
        const out: Buffer[] = [];
        const output = new PassThrough();
        output.on('data', (c: Buffer) => out.push(c));
        const warnings: VcfWarning[] = [];
        try {
          const outcome = await typedOutcome(
            async () => {
              const summary = await annotateVcf({ scorer, input: file, output, onWarning: (w) => warnings.push(w), chunkSize: 3 });
              // One warning per record written without a score, each for its own line (a scored record warns only of IUPAC ALTs it left out).
              expect(warnings.filter((w) => w.reason !== 'ambiguous-alt').length).toBe(summary.records - summary.scored);
              expect(new Set(warnings.map((w) => w.line)).size).toBe(warnings.length);
            },
            file,
            [InputError.code],
          );
          if (outcome !== 'accepted' || (form >= 0.15 && form < 0.25)) return outcome;

          // Every body line of the input comes back, in order, changed at most in INFO.
          const input = splitLines(Buffer.from(text).toString('latin1'));
          let h = 0;
          while (h < input.length && (input[h].startsWith('##') || bare(input[h]).trim() === '')) h++;
          const body = input.slice(h + 1);
          const written = splitLines(Buffer.concat(out).toString('latin1'));
          expect(written.length).toBeGreaterThanOrEqual(body.length);
          const tail = written.slice(written.length - body.length);
          body.forEach((line, i) => {
            if (tail[i] === line) return;
            const [a, b] = [bare(line).split('\t'), bare(tail[i]).split('\t')];
            expect(b.length, `line ${h + 2 + i}`).toBe(a.length);
            expect([...b.slice(0, 7), ...b.slice(8)]).toEqual([...a.slice(0, 7), ...a.slice(8)]);
            // Scored: SpliceAI= set; unscored: an earlier SpliceAI= removed. Either way no empty entries.
            const rest = (info: string) => info.split(';').filter((p) => p !== '' && p !== '.' && !/^SpliceAI(=|$)/.test(p));
            if (!/(^|;)SpliceAI=/.test(b[7])) expect(rest(b[7])).toEqual(rest(a[7]));
            expect(b[7].split(';')).not.toContain('');
            expect(tail[i].slice(bare(tail[i]).length)).toBe(line.slice(bare(line).length));
          });
          return outcome;
        } finally {
          await fsp.rm(file, { force: true });
        }
      });
      expect(stats.accepted).toBeGreaterThan(0);
    },
    fuzzTimeout(),
  );
});
