import { InvalidArgumentError } from '@metaspliceai/core';

/** What a typed-in sequence holds, besides its bases. */
export interface ParsedSequence {
  /** The bases, U read as T; IUPAC ambiguity codes kept (they encode as N). */
  sequence: string;
  /** How many U (RNA) bases were read as T, for a note to the user. */
  uracils: number;
  /** How many IUPAC ambiguity codes (R, Y, ..., and N) there are: the model sees each as N. */
  ambiguous: number;
}

const BASES = /[ACGT]/i;
const AMBIGUOUS = /[NRYSWKMBDHV]/i;

/**
 * Checks a sequence typed on the command line (`predict --sequence`) before it is predicted, so a
 * typo is an error instead of silently N: A, C, G, T in any case; U as T (RNA); N and the IUPAC
 * ambiguity codes as N. Leading and trailing whitespace is dropped. Anything else (digits, `>`, a
 * space or gap inside) is an InvalidArgumentError naming the first such character and its 1-based
 * position in `text`.
 */
export function parseSequenceText(text: string, what = '--sequence'): ParsedSequence {
  const lead = text.length - text.trimStart().length;
  const body = text.trim();
  let uracils = 0;
  let ambiguous = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (BASES.test(ch)) continue;
    if (ch === 'U' || ch === 'u') uracils++;
    else if (AMBIGUOUS.test(ch)) ambiguous++;
    else {
      const shown = ch === ' ' ? 'a space' : ch === '\t' ? 'a tab' : ch === '\n' || ch === '\r' ? 'a line break' : JSON.stringify(ch);
      throw new InvalidArgumentError(`${what}: ${shown} at position ${lead + i + 1} is not a base`, {
        hint: 'give bases only: A, C, G, T (U is read as T; N and IUPAC codes such as R or Y are read as N); for FASTA, use --fasta or pipe it on stdin',
      });
    }
  }
  return { sequence: uracils ? body.replace(/U/g, 'T').replace(/u/g, 't') : body, uracils, ambiguous };
}
