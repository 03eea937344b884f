import type { GeneModelTranscript } from '../annotations/gene-model.js';

/** The two splice-site types a SpliceAI-shaped model predicts. */
export type SiteType = 'acceptor' | 'donor';
export const SITE_TYPES: readonly SiteType[] = ['acceptor', 'donor'];

/** A gene's annotated sites: 1-based genome coordinate -> the transcripts that have a site there. */
export interface AnnotatedSites {
  acceptor: Map<number, string[]>;
  donor: Map<number, string[]>;
}

/**
 * The annotated sites of a gene, labelled as SpliceAI labels them: the union over `transcripts`
 * of every internal exon boundary. In transcript orientation the acceptor is the first base of
 * every exon but the transcript's first and the donor the last base of every exon but its last;
 * on `-` that makes an exon's higher end its acceptor and its lower end its donor. Single-exon
 * transcripts add no sites. Transcripts without a `+`/`-` strand add none either.
 */
export function annotatedSites(transcripts: readonly Pick<GeneModelTranscript, 'id' | 'strand' | 'exons'>[]): AnnotatedSites {
  const sites: AnnotatedSites = { acceptor: new Map(), donor: new Map() };
  const add = (type: SiteType, position: number, transcript: string) => {
    const list = sites[type].get(position);
    if (!list) sites[type].set(position, [transcript]);
    else if (!list.includes(transcript)) list.push(transcript);
  };
  for (const t of transcripts) {
    const exons = [...t.exons].sort((a, b) => a.start - b.start || a.end - b.end);
    const last = exons.length - 1;
    for (let i = 0; i <= last; i++) {
      const exon = exons[i];
      if (t.strand === '+') {
        if (i > 0) add('acceptor', exon.start, t.id);
        if (i < last) add('donor', exon.end, t.id);
      } else if (t.strand === '-') {
        // Transcript order runs from the highest exon down: exons[last] is its first.
        if (i < last) add('acceptor', exon.end, t.id);
        if (i > 0) add('donor', exon.start, t.id);
      }
    }
  }
  return sites;
}
