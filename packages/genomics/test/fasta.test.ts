import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { InputError } from '@metaspliceai/core';
import { openFasta, readFastaRecords } from '@metaspliceai/genomics';
import { buildFaiIndex, matchContigName } from '../src/io/fasta.js';
import { SHARED } from '../../../test-support/shared.js';

const FA = join(SHARED, 'data/chr10_hg19_test.fa');

describe('FASTA', () => {
  it('builds the same .fai index samtools wrote', async () => {
    expect(await buildFaiIndex(FA)).toBe(await fs.readFile(`${FA}.fai`, 'utf8'));
  });

  it('reads ranges with and without a .fai file, CRLF included', async () => {
    const indexed = await openFasta(FA);
    const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-fasta-'));
    const copy = join(dir, 'copy.fa');
    await fs.copyFile(FA, copy);
    const unindexed = await openFasta(copy);
    const crlf = join(dir, 'crlf.fa');
    await fs.writeFile(crlf, (await fs.readFile(FA, 'utf8')).replace(/\n/g, '\r\n'));
    const windows = await openFasta(crlf);
    expect(await indexed.names()).toEqual(['chr10']);
    const a = await indexed.fetch('chr10', 1000, 1200);
    expect(a).toHaveLength(200);
    expect(await unindexed.fetch('chr10', 1000, 1200)).toBe(a);
    expect(await windows.fetch('chr10', 1000, 1200)).toBe(a);
    expect(await indexed.fetch('chr10', -5, 3)).toHaveLength(3);
    expect(await indexed.resolveName('10')).toBe('chr10');
  });

  it('refuses plain gzip with a hint and names missing records', async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-fasta-'));
    const gz = join(dir, 'x.fa.gz');
    await fs.writeFile(gz, gzipSync('>a\nACGT\n'));
    const error = await openFasta(gz).catch((e) => e);
    expect(InputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/not bgzip/);
    const fa = await openFasta(FA);
    await expect(fa.fetch('chr99', 0, 10)).rejects.toThrow(/no record named chr99/);
    await expect(openFasta(join(dir, 'missing.fa'))).rejects.toThrow(/cannot open/);
  });

  it('matches contig names with or without chr', () => {
    expect(matchContigName(['chr1', 'chrM'], '1')).toBe('chr1');
    expect(matchContigName(['1', 'MT'], 'chrM')).toBe('MT');
    expect(matchContigName(['1'], 'chr2')).toBeUndefined();
  });

  it('refuses records that share a name, naming them and their lines (file, .fai and stream)', async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-fasta-'));
    const text = '>a first\nACGT\nAC\n>b\nGGGG\n>a second\nTTTT\n';
    const path = join(dir, 'dup.fa');
    await fs.writeFile(path, text);
    const error = await openFasta(path).catch((e) => e);
    expect(InputError.isInstance(error)).toBe(true);
    expect(error.message).toBe(`${path}: FASTA records share a name: a (lines 1, 6)`);
    // A .fai listing a name twice is refused too (samtools would keep the first).
    const ok = join(dir, 'ok.fa');
    await fs.writeFile(ok, '>a\nACGT\n>b\nGGGG\n');
    await fs.writeFile(`${ok}.fai`, 'a\t4\t3\t4\t5\nb\t4\t11\t4\t5\na\t4\t3\t4\t5\n');
    await expect(openFasta(ok)).rejects.toThrow(/ok\.fa\.fai: the index lists records of the same name: a \(rows 1, 3\)/);
    const records = async () => {
      for await (const r of readFastaRecords(Readable.from([Buffer.from(text)]), { source: 'in.fa' })) await r.dispose?.();
    };
    await expect(records()).rejects.toThrow('in.fa: FASTA records share a name: a (lines 1, 6)');
  });

  it('checks a .fai against the file: another line layout, another file, another length', async () => {
    const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-fasta-'));
    const seq = 'ACGTTGCA'.repeat(30); // 240 bases
    const path = join(dir, 'g.fa');
    await fs.writeFile(path, `>c1\n${seq.replace(/(.{60})/g, '$1\n')}>c2\n${seq.slice(0, 100)}\n`);
    const good = await buildFaiIndex(path);
    await fs.writeFile(`${path}.fai`, good);
    const fasta = await openFasta(path);
    expect(await fasta.fetch('c1', 50, 190)).toBe(seq.slice(50, 190));
    expect(await fasta.fetch('c2', 90, 200)).toBe(seq.slice(90, 100));
    const refused = async (fai: string, pattern: RegExp, from = 50, to = 190) => {
      await fs.writeFile(`${path}.fai`, fai);
      const error = await openFasta(path)
        .then((f) => f.fetch('c1', from, to))
        .catch((e) => e);
      expect(InputError.isInstance(error), String(error)).toBe(true);
      expect(error.message).toMatch(pattern);
      expect(error.message).toContain(`the index ${path}.fai does not match ${path}`);
      expect(error.hint).toBe(`rebuild it with: samtools faidx ${path}`);
    };
    // The same file wrapped at 50: the index says 50 bases a line.
    await refused(
      good.replace('\t60\t61', '\t50\t51'),
      /does not end where the index says|no newline after 50 bases|a line end or header where the index puts bases/,
    );
    // Another file's index (chr10 of hg19's test file): the records are not there.
    await refused(await fs.readFile(`${FA}.fai`, 'utf8'), /would end at byte \d+, but the file has \d+ bytes/);
    // A longer c1 than the file has (the file was edited after indexing), inside the file size.
    await refused(good.replace(/^c1\t240/, 'c1\t250'), /record c1 \(250 bases\) does not end where the index says/);
    // The offsets of another layout: the header check catches them.
    await refused(good.replace(/^c1\t240\t4\t/, 'c1\t240\t5\t'), /does not start after a line end|the header before record c1/);
  });
});
