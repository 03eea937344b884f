import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputError } from '@metaspliceai/core';
import {
  AnnotationIndex,
  compileAnnotationTable,
  formatAnnotationTable,
  loadAnnotation,
  parseAnnotationTable,
  readAnnotation,
  readAnnotationTable,
} from '@metaspliceai/genomics';
import { transcriptDistances } from '../src/annotations/lookup.js';
import { SHARED } from '../../../test-support/shared.js';

const TUBB8 = join(SHARED, 'fixtures/tubb8_grch37.tsv');

async function temp(name: string, text: string | Buffer): Promise<string> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-annotations-'));
  const path = join(dir, name);
  await fs.mkdir(join(path, '..'), { recursive: true });
  await fs.writeFile(path, text);
  return path;
}

const tsv = (...rows: string[][]) => `${rows.map((r) => r.join('\t')).join('\n')}\n`;

// GENCODE style: gene/transcript/exon lines, `key "value";` attributes, repeated `tag`s.
const GENCODE_GTF = tsv(
  ['##description: evidence-based annotation of the human genome'],
  ['chr1', 'HAVANA', 'gene', '1001', '5000', '.', '+', '.', 'gene_id "ENSG1.1"; gene_type "protein_coding"; gene_name "ALPHA"; level 2;'],
  [
    'chr1',
    'HAVANA',
    'transcript',
    '1001',
    '4500',
    '.',
    '+',
    '.',
    'gene_id "ENSG1.1"; transcript_id "ENST2.1"; gene_type "protein_coding"; gene_name "ALPHA"; transcript_type "protein_coding"; tag "basic";',
  ],
  ['chr1', 'HAVANA', 'exon', '1001', '1300', '.', '+', '.', 'gene_id "ENSG1.1"; transcript_id "ENST2.1"; gene_name "ALPHA"; exon_number 1;'],
  ['chr1', 'HAVANA', 'exon', '4001', '4500', '.', '+', '.', 'gene_id "ENSG1.1"; transcript_id "ENST2.1"; gene_name "ALPHA"; exon_number 2;'],
  [
    'chr1',
    'HAVANA',
    'transcript',
    '1001',
    '5000',
    '.',
    '+',
    '.',
    'gene_id "ENSG1.1"; transcript_id "ENST1.1"; gene_type "protein_coding"; gene_name "ALPHA"; transcript_type "protein_coding"; tag "basic"; tag "Ensembl_canonical"; tag "MANE_Select";',
  ],
  ['chr1', 'HAVANA', 'exon', '1001', '1200', '.', '+', '.', 'gene_id "ENSG1.1"; transcript_id "ENST1.1"; gene_name "ALPHA"; exon_number 1;'],
  ['chr1', 'HAVANA', 'CDS', '1101', '1200', '.', '+', '0', 'gene_id "ENSG1.1"; transcript_id "ENST1.1"; gene_name "ALPHA"; exon_number 1;'],
  ['chr1', 'HAVANA', 'exon', '2001', '2100', '.', '+', '.', 'gene_id "ENSG1.1"; transcript_id "ENST1.1"; gene_name "ALPHA"; exon_number 2;'],
  ['chr1', 'HAVANA', 'exon', '4001', '5000', '.', '+', '.', 'gene_id "ENSG1.1"; transcript_id "ENST1.1"; gene_name "ALPHA"; exon_number 3;'],
  ['chr1', 'HAVANA', 'gene', '8001', '9000', '.', '-', '.', 'gene_id "ENSG3.1"; gene_type "protein_coding"; gene_name "BETA";'],
  [
    'chr1',
    'HAVANA',
    'transcript',
    '8001',
    '9000',
    '.',
    '-',
    '.',
    'gene_id "ENSG3.1"; transcript_id "ENST3.1"; gene_name "BETA"; transcript_type "protein_coding";',
  ],
  ['chr1', 'HAVANA', 'exon', '8501', '9000', '.', '-', '.', 'gene_id "ENSG3.1"; transcript_id "ENST3.1"; gene_name "BETA"; exon_number 1;'],
  ['chr1', 'HAVANA', 'exon', '8001', '8100', '.', '-', '.', 'gene_id "ENSG3.1"; transcript_id "ENST3.1"; gene_name "BETA"; exon_number 2;'],
  [
    'chr1',
    'HAVANA',
    'transcript',
    '8001',
    '9000',
    '.',
    '-',
    '.',
    'gene_id "ENSG3.1"; transcript_id "ENST4.1"; gene_name "BETA"; transcript_type "protein_coding";',
  ],
  ['chr1', 'HAVANA', 'exon', '8501', '9000', '.', '-', '.', 'gene_id "ENSG3.1"; transcript_id "ENST4.1"; gene_name "BETA"; exon_number 1;'],
  ['chr1', 'HAVANA', 'exon', '8001', '8300', '.', '-', '.', 'gene_id "ENSG3.1"; transcript_id "ENST4.1"; gene_name "BETA"; exon_number 2;'],
  // No gene or transcript line (older GTFs): built from the exons.
  [
    'chr2',
    'ENSEMBL',
    'exon',
    '101',
    '300',
    '.',
    '+',
    '.',
    'gene_id "ENSG5"; transcript_id "ENST5"; gene_name "GAMMA"; gene_biotype "lncRNA"; transcript_biotype "lncRNA";',
  ],
);

// RefSeq style: IDs and Parents, %-escapes, `tag=MANE Select`, several transcript types, and a
// pseudogene whose exon hangs off the gene itself.
const REFSEQ_GFF3 = tsv(
  ['##gff-version 3'],
  ['##sequence-region chr3 1 100000'],
  ['chr3', 'BestRefSeq', 'gene', '10001', '21000', '.', '-', '.', 'ID=gene-DELTA;Name=DELTA;gbkey=Gene;gene=DELTA;gene_biotype=protein_coding'],
  ['chr3', 'Gnomon', 'mRNA', '10001', '21000', '.', '-', '.', 'ID=rna-XM_1.1;Parent=gene-DELTA;gene=DELTA;transcript_id=XM_1.1'],
  ['chr3', 'Gnomon', 'exon', '20001', '21000', '.', '-', '.', 'ID=exon-XM_1.1-1;Parent=rna-XM_1.1;gene=DELTA'],
  ['chr3', 'Gnomon', 'exon', '10001', '10500', '.', '-', '.', 'ID=exon-XM_1.1-2;Parent=rna-XM_1.1;gene=DELTA'],
  ['chr3', 'BestRefSeq', 'mRNA', '10001', '20000', '.', '-', '.', 'ID=rna-NM_1.1;Parent=gene-DELTA;gene=DELTA;tag=MANE Select;transcript_id=NM_1.1'],
  ['chr3', 'BestRefSeq', 'exon', '19001', '20000', '.', '-', '.', 'ID=exon-NM_1.1-1;Parent=rna-NM_1.1;gene=DELTA'],
  ['chr3', 'BestRefSeq', 'exon', '15001', '15100', '.', '-', '.', 'ID=exon-NM_1.1-2;Parent=rna-NM_1.1;gene=DELTA'],
  ['chr3', 'BestRefSeq', 'exon', '10001', '10500', '.', '-', '.', 'ID=exon-NM_1.1-3;Parent=rna-NM_1.1;gene=DELTA'],
  ['chr3', 'BestRefSeq', 'CDS', '15001', '15100', '.', '-', '0', 'ID=cds-NP_1.1;Parent=rna-NM_1.1;gene=DELTA'],
  ['chr3', 'BestRefSeq', 'CDS', '19001', '19500', '.', '-', '2', 'ID=cds-NP_1.1;Parent=rna-NM_1.1;gene=DELTA'],
  ['chr3', 'BestRefSeq', 'gene', '30001', '31000', '.', '+', '.', 'ID=gene-EPS1;Name=EPS%2D1;gene_biotype=lncRNA'],
  ['chr3', 'BestRefSeq', 'lnc_RNA', '30001', '31000', '.', '+', '.', 'ID=rna-NR_1.1;Parent=gene-EPS1;gene=EPS-1'],
  ['chr3', 'BestRefSeq', 'exon', '30001', '30200', '.', '+', '.', 'ID=exon-NR_1.1-1;Parent=rna-NR_1.1'],
  ['chr3', 'BestRefSeq', 'exon', '30801', '31000', '.', '+', '.', 'ID=exon-NR_1.1-2;Parent=rna-NR_1.1'],
  ['chr3', 'Curated Genomic', 'pseudogene', '40001', '40500', '.', '+', '.', 'ID=gene-PSI;Name=PSI;gene_biotype=pseudogene'],
  ['chr3', 'Curated Genomic', 'exon', '40001', '40500', '.', '+', '.', 'ID=id-PSI;Parent=gene-PSI'],
  ['##FASTA'],
  ['>chr3'],
  ['ACGT'],
);

describe('GTF/GFF3 reading (1-based, inclusive, as in the file)', () => {
  it('reads GENCODE-style GTF genes, transcripts, exons, CDS, tags and biotypes', async () => {
    const model = await readAnnotation(await temp('gencode.gtf', GENCODE_GTF));
    expect(model.format).toBe('gtf');
    expect(model.chroms).toEqual(['chr1', 'chr2']);
    expect(model.genes.map((g) => [g.id, g.name, g.strand, g.start, g.end, g.biotype])).toEqual([
      ['ENSG1.1', 'ALPHA', '+', 1001, 5000, 'protein_coding'],
      ['ENSG3.1', 'BETA', '-', 8001, 9000, 'protein_coding'],
      ['ENSG5', 'GAMMA', '+', 101, 300, undefined],
    ]);
    const alpha = model.genes[0].transcripts;
    expect(alpha.map((t) => t.id)).toEqual(['ENST2.1', 'ENST1.1']);
    expect(alpha[1]).toMatchObject({
      start: 1001,
      end: 5000,
      tags: ['basic', 'Ensembl_canonical', 'MANE_Select'],
      biotype: 'protein_coding',
      cds: [{ start: 1101, end: 1200 }],
    });
    expect(alpha[1].exons).toEqual([
      { start: 1001, end: 1200 },
      { start: 2001, end: 2100 },
      { start: 4001, end: 5000 },
    ]);
    // Minus-strand exons come sorted by start, whatever the file order.
    expect(model.genes[1].transcripts[0].exons).toEqual([
      { start: 8001, end: 8100 },
      { start: 8501, end: 9000 },
    ]);
    expect(model.genes[2].transcripts[0]).toMatchObject({ id: 'ENST5', start: 101, end: 300, biotype: 'lncRNA' });
  });

  it('reads RefSeq-style GFF3 (any transcript type, %-escapes, exons under a gene, ##FASTA ends it)', async () => {
    const warnings: string[] = [];
    const model = await readAnnotation(await temp('refseq.gff.gz', gzipSync(REFSEQ_GFF3)), { onWarning: (w) => warnings.push(w) });
    expect(model.format).toBe('gff3');
    expect(warnings).toEqual([]);
    expect(model.genes.map((g) => [g.id, g.name, g.strand, g.start, g.end, g.biotype, g.transcripts.map((t) => t.id)])).toEqual([
      ['gene-DELTA', 'DELTA', '-', 10001, 21000, 'protein_coding', ['rna-XM_1.1', 'rna-NM_1.1']],
      ['gene-EPS1', 'EPS-1', '+', 30001, 31000, 'lncRNA', ['rna-NR_1.1']],
      ['gene-PSI', 'PSI', '+', 40001, 40500, 'pseudogene', ['gene-PSI']],
    ]);
    const nm = model.genes[0].transcripts[1];
    expect(nm).toMatchObject({ start: 10001, end: 20000, tags: ['MANE Select'], biotype: 'mRNA', geneName: 'DELTA' });
    expect(nm.exons).toEqual([
      { start: 10001, end: 10500 },
      { start: 15001, end: 15100 },
      { start: 19001, end: 20000 },
    ]);
    expect(nm.cds).toEqual([
      { start: 15001, end: 15100 },
      { start: 19001, end: 19500 },
    ]);
    expect(model.genes[1].transcripts[0].biotype).toBe('lnc_RNA');
  });

  it('reads the MANE chr22 GFF3 of the shared data', async () => {
    const model = await readAnnotation(join(SHARED, 'data/chr22.gff'));
    expect(model.genes).toHaveLength(423);
    const or11h1 = model.genes.find((g) => g.name === 'OR11H1')!;
    expect(or11h1.transcripts).toHaveLength(1);
    expect(or11h1.transcripts[0]).toMatchObject({
      id: 'rna-NM_001005239.2',
      start: 15528192,
      end: 15529139,
      tags: ['MANE Select'],
      exons: [{ start: 15528192, end: 15529139 }],
    });
  });

  it('names the file and line of a broken feature line', async () => {
    const bad = await temp('bad.gtf', 'chr1\tX\texon\t100\t50\t.\t+\t.\tgene_id "A"; transcript_id "B";\n');
    const error = await readAnnotation(bad).catch((e) => e);
    expect(InputError.isInstance(error)).toBe(true);
    expect(error.message).toBe(`${bad}:1: start "100" and end "50" are not a 1-based range`);
  });
});

describe('the GTF/GFF3 -> SpliceAI table compiler', () => {
  it('writes 0-based starts and 1-based ends, one canonical transcript per gene (MANE, then longest)', async () => {
    const { rows, stats } = compileAnnotationTable(await readAnnotation(await temp('g.gtf', GENCODE_GTF)));
    expect(formatAnnotationTable(rows)).toBe(
      tsv(
        ['#NAME', 'CHROM', 'STRAND', 'TX_START', 'TX_END', 'EXON_START', 'EXON_END'],
        ['ALPHA', 'chr1', '+', '1000', '5000', '1000,2000,4000,', '1200,2100,5000,'],
        ['BETA', 'chr1', '-', '8000', '9000', '8000,8500,', '8300,9000,'],
        ['GAMMA', 'chr2', '+', '100', '300', '100,', '300,'],
      ),
    );
    expect(stats).toEqual({ genes: 3, rows: 3, filtered: 0, unusable: 0 });
  });

  it('keeps every transcript with --transcripts all, and filters by biotype', async () => {
    const model = await readAnnotation(await temp('g.gtf', GENCODE_GTF));
    const all = compileAnnotationTable(model, { transcripts: 'all' }).rows;
    expect(all.map((r) => `${r.name}:${r.txStart}-${r.txEnd}:${r.exonEnds.join(',')}`)).toEqual([
      'ALPHA:1000-4500:1300,4500',
      'ALPHA:1000-5000:1200,2100,5000',
      'BETA:8000-9000:8100,9000',
      'BETA:8000-9000:8300,9000',
      'GAMMA:100-300:300',
    ]);
    const coding = compileAnnotationTable(model, { biotypes: ['protein_coding'] });
    expect(coding.rows.map((r) => r.name)).toEqual(['ALPHA', 'BETA']);
    expect(coding.stats.filtered).toBe(1);
  });

  it('compiles RefSeq GFF3 the same way (MANE Select wins over a longer transcript)', async () => {
    const { rows } = compileAnnotationTable(await readAnnotation(await temp('r.gff3', REFSEQ_GFF3)));
    expect(formatAnnotationTable(rows).split('\n').slice(1, -1)).toEqual([
      'DELTA\tchr3\t-\t10000\t20000\t10000,15000,19000,\t10500,15100,20000,',
      'EPS-1\tchr3\t+\t30000\t31000\t30000,30800,\t30200,31000,',
      'PSI\tchr3\t+\t40000\t40500\t40000,\t40500,',
    ]);
  });

  it('turns a GTF of the TUBB8 fixture transcript back into the fixture row', async () => {
    const fixture = await fs.readFile(TUBB8, 'utf8');
    const [row] = parseAnnotationTable(fixture).rows;
    const lines = [
      ['10', 'test', 'gene', String(row.txStart + 1), String(row.txEnd), '.', '-', '.', 'gene_id "G"; gene_name "TUBB8";'],
      ...row.exonStarts.map((s, i) => [
        '10',
        'test',
        'exon',
        String(s + 1),
        String(row.exonEnds[i]),
        '.',
        '-',
        '.',
        'gene_id "G"; transcript_id "T"; gene_name "TUBB8";',
      ]),
    ];
    const { rows } = compileAnnotationTable(await readAnnotation(await temp('tubb8.gtf', tsv(...lines))));
    expect(formatAnnotationTable(rows)).toBe(fixture);
  });

  it('compiles the 423 MANE genes of chr22', async () => {
    const { rows } = compileAnnotationTable(await readAnnotation(join(SHARED, 'data/chr22.gff')));
    expect(rows).toHaveLength(423);
    expect(formatAnnotationTable(rows).split('\n')[1]).toBe('OR11H1\tchr22\t+\t15528191\t15529139\t15528191,\t15529139,');
  });
});

describe('SpliceAI annotation tables', () => {
  it('reads the TUBB8 fixture (plain and gzip) and finds the transcripts around a position', async () => {
    const table = await readAnnotationTable(TUBB8);
    expect(table.rows).toEqual([
      {
        name: 'TUBB8',
        chrom: '10',
        strand: '-',
        txStart: 92892,
        txEnd: 95529,
        exonStarts: [92892, 94554, 94743, 95121],
        exonEnds: [94054, 94665, 94852, 95529],
      },
    ]);
    const gz = await readAnnotationTable(await temp('t.txt.gz', gzipSync(await fs.readFile(TUBB8))));
    expect(gz.rows).toEqual(table.rows);
    const index = new AnnotationIndex(table);
    expect(index.overlapping('chr10', 92892)).toEqual([]);
    expect(index.overlapping('chr10', 92893).map((h) => h.row.name)).toEqual(['TUBB8']);
    expect(index.overlapping('10', 95529)).toHaveLength(1);
    expect(index.overlapping('10', 95530)).toEqual([]);
    expect(index.overlapping('11', 94000)).toEqual([]);
  });

  it("gives SpliceAI's dist_ann, the upstream boundary winning a tie", () => {
    const row = { name: 'X', chrom: '1', strand: '+' as const, txStart: 99, txEnd: 300, exonStarts: [99, 200], exonEnds: [150, 300] };
    // 1-based boundaries: 100, 150, 201, 300. Position 175 is 25 from 150 and 26 from 201.
    expect(transcriptDistances(row, 175)).toEqual({ txStart: -75, txEnd: 125, exonBoundary: -25 });
    expect(transcriptDistances({ ...row, exonStarts: [99, 199] }, 175)).toEqual({ txStart: -75, txEnd: 125, exonBoundary: -25 });
    expect(transcriptDistances({ ...row, exonEnds: [152, 300], exonStarts: [99, 197] }, 175)).toEqual({ txStart: -75, txEnd: 125, exonBoundary: -23 });
  });

  it('finds every overlapping transcript in table order, long genes included', () => {
    const rows = [
      { name: 'LONG', chrom: 'chr1', strand: '+' as const, txStart: 0, txEnd: 1_000_000, exonStarts: [0], exonEnds: [1_000_000] },
      ...Array.from({ length: 50 }, (_, i) => ({
        name: `G${i}`,
        chrom: 'chr1',
        strand: '-' as const,
        txStart: 1000 + i * 100,
        txEnd: 1150 + i * 100,
        exonStarts: [1000 + i * 100],
        exonEnds: [1150 + i * 100],
      })),
    ];
    const index = new AnnotationIndex({ source: 't', rows: [...rows].reverse() });
    expect(index.overlapping('1', 1520).map((h) => h.row.name)).toEqual(['G5', 'G4', 'LONG']);
  });

  it('names file and line of a bad row or header', async () => {
    const bad = await temp(
      'bad.txt',
      tsv(['#NAME', 'CHROM', 'STRAND', 'TX_START', 'TX_END', 'EXON_START', 'EXON_END'], ['A', '1', '+', 'x', '10', '1,', '5,']),
    );
    await expect(readAnnotationTable(bad)).rejects.toThrow(`${bad}:2: TX_START is "x", not a non-negative integer`);
    const header = await temp('h.txt', tsv(['NAME', 'CHROM'], ['A', '1']));
    await expect(readAnnotationTable(header)).rejects.toThrow(/h.txt:1: not a SpliceAI annotation table header \(missing #NAME/);
  });
});

describe('loadAnnotation (-A)', () => {
  it('says how to build grch37/grch38, which are not shipped', async () => {
    const dataDir = await fs.mkdtemp(join(tmpdir(), 'metaspliceai-data-'));
    const error = await loadAnnotation('grch37', { dataDir }).catch((e) => e);
    expect(InputError.isInstance(error)).toBe(true);
    expect(error.message).toBe(`the grch37 annotation table is not installed: looked for ${join(dataDir, 'annotations', 'grch37.txt')}`);
    expect(error.hint).toMatch(/gencode.*: metaspliceai annotations build <that file> -o /);
    await fs.mkdir(join(dataDir, 'annotations'));
    await fs.copyFile(TUBB8, join(dataDir, 'annotations', 'grch37.txt'));
    const loaded = await loadAnnotation('GRCh37', { dataDir });
    expect(loaded).toMatchObject({ format: 'table', spec: 'GRCh37' });
    expect(loaded.table.rows[0].name).toBe('TUBB8');
    expect(loaded.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('compiles a GTF or GFF3 given to -A, and tells tables from GFF by content', async () => {
    const gtf = await loadAnnotation(await temp('genes.txt', GENCODE_GTF));
    expect(gtf.format).toBe('gtf');
    expect(gtf.table.rows.map((r) => r.name)).toEqual(['ALPHA', 'BETA', 'GAMMA']);
    const gff = await loadAnnotation(await temp('genes', REFSEQ_GFF3));
    expect(gff.format).toBe('gff3');
    const mane = await loadAnnotation(join(SHARED, 'data/MANE.GRCh38.v1.3.refseq_genomic_10_sample.gff')).catch((e) => e);
    expect(mane.message).toMatch(/no transcript with exons/);
    await expect(loadAnnotation('/nonexistent/annotation.txt')).rejects.toThrow(/no such file/);
  });
});
