import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildFaiIndex, InputError, matchContigName, openFasta } from '../src/index.js';
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
});
