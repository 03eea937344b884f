import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DATA_DIR_ENV, InputError, resolveDataDir, sha256File } from '@metaspliceai/core';
import { readTextLines } from '../io/lines.js';
import { type CompileOptions, type CompileStats, compileAnnotationTable } from './compile.js';
import { readAnnotation } from './gff.js';
import { type AnnotationTable, readAnnotationTable } from './table.js';

/** The built-in annotation names SpliceAI accepts for `-A`. */
export const BUILTIN_ANNOTATIONS = ['grch37', 'grch38'] as const;

export type AnnotationFormat = 'table' | 'gtf' | 'gff3';

export interface LoadedAnnotation {
  table: AnnotationTable;
  /** The file read. */
  path: string;
  /** What `-A` said (`grch37`, or the path as given). */
  spec: string;
  format: AnnotationFormat;
  sha256: string;
  /** For GTF/GFF3 inputs: what the compiler kept. */
  stats?: CompileStats;
}

export interface LoadAnnotationOptions extends CompileOptions {
  cwd?: string;
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  onWarning?: (message: string) => void;
}

/**
 * Loads what SpliceAI's `-A` names: `grch37`/`grch38` (a table in `<data>/annotations/`, which is
 * not shipped: build it with `metaspliceai annotations build`), a SpliceAI-format table, or a
 * GTF/GFF3 file compiled on the fly (one canonical transcript per gene unless told otherwise).
 */
export async function loadAnnotation(spec: string, options: LoadAnnotationOptions = {}): Promise<LoadedAnnotation> {
  const cwd = options.cwd ?? process.cwd();
  let path: string;
  const builtin = BUILTIN_ANNOTATIONS.find((b) => b === spec.toLowerCase());
  if (builtin) {
    const dir = join(resolveDataDir(options), 'annotations');
    const candidates = ['.txt', '.tsv', '.txt.gz', '.tsv.gz'].map((ext) => join(dir, `${builtin}${ext}`));
    const found = candidates.find((c) => existsSync(c));
    if (!found) {
      const gencode = builtin === 'grch37' ? 'gencode.v19.annotation.gtf.gz (GENCODE 19, GRCh37)' : 'gencode.v4x.basic.annotation.gtf.gz (GENCODE, GRCh38)';
      throw new InputError(`the ${builtin} annotation table is not installed: looked for ${candidates[0]}`, {
        hint: `build it from a GENCODE GTF, e.g. ${gencode}: metaspliceai annotations build <that file> -o ${candidates[0]} --biotype protein_coding (or copy SpliceAI's annotations/${builtin}.txt there; --data-dir or $${DATA_DIR_ENV} moves the folder)`,
      });
    }
    path = found;
  } else {
    path = resolve(cwd, spec);
    if (!existsSync(path))
      throw new InputError(`annotation ${spec}: no such file`, {
        hint: `-A takes ${BUILTIN_ANNOTATIONS.join(', ')}, a SpliceAI annotation table, or a GTF/GFF3 file`,
      });
  }
  const format = await sniffAnnotationFormat(path);
  const sha256 = await sha256File(path);
  if (format === 'table') return { table: await readAnnotationTable(path), path, spec, format, sha256 };
  const model = await readAnnotation(path, { format, onWarning: options.onWarning });
  const { rows, stats } = compileAnnotationTable(model, options);
  if (rows.length === 0)
    throw new InputError(`${path}: no transcript with exons and a strand${options.biotypes?.length ? ` among biotypes ${options.biotypes.join(', ')}` : ''}`);
  return { table: { source: path, rows }, path, spec, format, sha256, stats };
}

/** Tells a SpliceAI table from GTF and GFF3 by the file name, else by the first lines. */
export async function sniffAnnotationFormat(path: string): Promise<AnnotationFormat> {
  const base = basename(path)
    .toLowerCase()
    .replace(/\.(gz|bgz)$/, '');
  if (base.endsWith('.gtf')) return 'gtf';
  if (base.endsWith('.gff3') || base.endsWith('.gff')) return 'gff3';
  let checked = 0;
  for await (const line of readTextLines(path, path)) {
    const text = line.text;
    if (text.startsWith('#NAME') || text.includes('TX_START')) return 'table';
    if (text.startsWith('##gff-version')) return text.includes('3') ? 'gff3' : 'gtf';
    if (!text.startsWith('#') && text.trim()) {
      const f = text.split('\t');
      if (f.length >= 9) return /^\s*[^\s=;]+\s+"/.test(f[8]) || !f[8].includes('=') ? 'gtf' : 'gff3';
      return 'table';
    }
    if (++checked > 1000) break;
  }
  return 'table';
}
