import { basename } from 'node:path';
import { type LoadedModelSet, sha256File, type VariantEncoding } from '@metaspliceai/core';
import { loadAnnotation, type LoadAnnotationOptions, openFasta } from '@metaspliceai/genomics';
import type { LookupGenome, LookupModel } from './engine.js';

/**
 * Opens one genome build for the server: the FASTA, and the annotation with every transcript (a
 * GTF/GFF3 is compiled with `transcripts: 'all'`, since lookups score each transcript on its own
 * bounds), both with their sha256 (for `/health` and the cache keys).
 */
export async function openLookupGenome(name: string, fastaPath: string, annotationSpec: string, options: LoadAnnotationOptions = {}): Promise<LookupGenome> {
  const fasta = await openFasta(fastaPath);
  const annotation = await loadAnnotation(annotationSpec, { transcripts: 'all', ...options });
  return {
    name,
    fasta,
    fastaSha256: await sha256File(fasta.path),
    annotation: { rows: annotation.table.rows, path: annotation.path, sha256: annotation.sha256 },
  };
}

/** The server's view of a loaded model set: members with their sha256 (from its metadata when listed). */
export async function lookupModelFrom(loaded: LoadedModelSet, encoding: VariantEncoding): Promise<LookupModel> {
  const listed = new Map((loaded.set.metadata?.files ?? []).map((f) => [basename(f.path), f.sha256]));
  const members: { file: string; sha256: string }[] = [];
  for (const m of loaded.set.members) members.push({ file: basename(m.path), sha256: listed.get(basename(m.path)) ?? (await sha256File(m.path)) });
  return { model: loaded.model, adapter: loaded.set.adapter, set: loaded.set.name, members, license: loaded.license, encoding };
}
