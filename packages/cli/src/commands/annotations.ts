import { promises as fs } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError, InvalidArgumentError, oneOf, optionsObject, parseFlags, resolveDataDir, toOutputError, writeFileAtomic } from '@metaspliceai/core';
import { BUILTIN_ANNOTATIONS, compileAnnotationTable, formatAnnotationTable, readAnnotation } from '@metaspliceai/genomics';
import { writeLine, type CliIO } from '../output/io.js';
import { checkOutputFile } from '../output/output-file.js';

interface BuildOptions {
  output?: string;
  install?: string;
  dataDir?: string;
  transcripts?: string;
  biotype: string[];
  quiet?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, ...value.split(',').filter(Boolean)];

/**
 * `metaspliceai annotations build`: compiles a GTF/GFF3 into the SpliceAI annotation table `score -A`
 * reads (and SpliceAI itself can read), one canonical transcript per gene by default.
 */
export function registerAnnotationsCommands(program: Command, io: CliIO, run: (fn: () => Promise<number>) => Promise<void>): void {
  const annotations = program.command('annotations').description('build the gene annotation tables variant scoring uses');
  annotations
    .command('build <gtf-or-gff3>')
    .description('compile a GTF or GFF3 (plain or gzip) into a SpliceAI annotation table')
    .option('-o, --output <file>', 'write the table here (default: stdout)')
    .option(
      '--install <name>',
      `write it as the built-in table ${BUILTIN_ANNOTATIONS.join(' or ')} in <data>/annotations/, where -A ${BUILTIN_ANNOTATIONS[0]} finds it`,
    )
    .option('--data-dir <dir>', 'the data folder for --install (default: data, or $METASPLICEAI_DATA_DIR)')
    .option(
      '--transcripts <which>',
      'canonical (default): one per gene (MANE Select, else Ensembl canonical, else RefSeq Select, else longest); all: every transcript',
    )
    .option('--biotype <type>', 'keep only genes of this biotype, e.g. protein_coding (repeatable or comma-separated; default: all)', collect, [] as string[])
    .option('--quiet', 'no summary on stderr')
    .addHelpText(
      'after',
      `
GTF/GFF3 coordinates are 1-based and inclusive; the table's TX_START and EXON_START are 0-based and
its ends 1-based, as in SpliceAI's grch37.txt: an exon at 1001..1200 becomes 1000 and 1200.

Examples:
  metaspliceai annotations build gencode.v19.annotation.gtf.gz --biotype protein_coding --install grch37
  metaspliceai annotations build MANE.GRCh38.v1.3.refseq_genomic.gff.gz -o mane.txt`,
    )
    .action((input: string, opts: BuildOptions) => run(() => build(input, opts, io)));
}

const buildFlags = optionsObject({ transcripts: oneOf(['canonical', 'all']) });

async function build(input: string, opts: BuildOptions, io: CliIO): Promise<number> {
  const { transcripts } = parseFlags(buildFlags, { transcripts: opts.transcripts ?? 'canonical' }, { transcripts: '--transcripts' });
  if (opts.output && opts.install) throw new InvalidArgumentError('give either --output or --install, not both');
  let target = opts.output ? resolve(io.cwd, opts.output) : undefined;
  if (opts.install) {
    const name = BUILTIN_ANNOTATIONS.find((b) => b === opts.install!.toLowerCase());
    if (!name) throw new InvalidArgumentError(`--install takes ${BUILTIN_ANNOTATIONS.join(' or ')}, got "${opts.install}"`);
    target = join(resolveDataDir({ dataDir: opts.dataDir, cwd: io.cwd, env: io.env }), 'annotations', `${name}.txt`);
    // <data>/annotations is a folder the tool manages: created. A file named with -o needs its folder.
    await fs.mkdir(dirname(target), { recursive: true }).catch((error: unknown) => {
      throw toOutputError(dirname(target!), error);
    });
  }
  if (target) {
    await checkOutputFile({ flag: opts.install ? '--install' : '-o', name: opts.output ?? target, path: target }, [
      { flag: 'the input', name: input, path: resolve(io.cwd, input) },
    ]);
  }
  const warnings: string[] = [];
  const model = await readAnnotation(resolve(io.cwd, input), { onWarning: (w) => warnings.push(w) });
  const { rows, stats } = compileAnnotationTable(model, { transcripts, biotypes: opts.biotype });
  if (rows.length === 0) {
    // An empty table would make every variant "outside genes": refuse it, saying why it is empty.
    const why =
      model.genes.length === 0
        ? "no genes were read (genes are read with their transcripts' exon lines)"
        : stats.filtered === model.genes.length
          ? `all ${model.genes.length} genes are of other biotypes than ${opts.biotype.join(', ')}`
          : `none of the ${model.genes.length} genes has a transcript with exons and a + or - strand`;
    throw new InputError(`${input}: no transcripts to write: ${why}`, {
      hint: 'check that the file is a GTF or GFF3 with gene, transcript and exon lines (and the --biotype names)',
    });
  }
  const text = formatAnnotationTable(rows);
  if (target) await writeFileAtomic(target, Buffer.from(text, 'latin1'));
  else io.stdout.write(Buffer.from(text, 'latin1'));
  if (!opts.quiet) {
    for (const w of warnings.slice(0, 5)) writeLine(io.stderr, `warning: ${w}`);
    if (warnings.length > 5) writeLine(io.stderr, `warning: ... and ${warnings.length - 5} more`);
    writeLine(
      io.stderr,
      `annotations: ${stats.rows} transcripts of ${stats.genes} genes from ${model.format.toUpperCase()} ${relative(io.cwd, resolve(io.cwd, input)) || input}` +
        (stats.filtered ? `; ${stats.filtered} genes of other biotypes left out` : '') +
        (stats.unusable ? `; ${stats.unusable} transcripts without exons or strand skipped` : '') +
        (target ? `; wrote ${relative(io.cwd, target) || target}` : ''),
    );
  }
  return rows.length ? 0 : 1;
}
