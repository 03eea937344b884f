/**
 * The sets a request for (set name?, context?) means: those of that name (if given) at that
 * context, or, without a context, at the largest one available (the most accurate model of a
 * family). Used for files on disk and for published catalogues alike; callers decide what zero or
 * several matches mean.
 */
export function selectByNameAndContext<T>(items: readonly T[], query: { setName?: string; context?: number }, nameOf: (item: T) => string, contextOf: (item: T) => number): T[] {
  const named = items.filter((item) => !query.setName || nameOf(item) === query.setName);
  if (query.context !== undefined) return named.filter((item) => contextOf(item) === query.context);
  if (named.length === 0) return named;
  const largest = Math.max(...named.map(contextOf));
  return named.filter((item) => contextOf(item) === largest);
}
