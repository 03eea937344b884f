/**
 * The sets a request for (set name?, context?) means: those of that name (if given) at that
 * context, or, without a context, at the largest one available (the most accurate model of a
 * family). Used for files on disk and for published catalogues alike; callers decide what zero or
 * several matches mean.
 */
export function selectByNameAndContext<T>(
  items: readonly T[],
  query: { setName?: string; context?: number },
  nameOf: (item: T) => string,
  contextOf: (item: T) => number,
): T[] {
  const named = items.filter((item) => !query.setName || nameOf(item) === query.setName);
  if (query.context !== undefined) return named.filter((item) => contextOf(item) === query.context);
  if (named.length === 0) return named;
  const largest = Math.max(...named.map(contextOf));
  return named.filter((item) => contextOf(item) === largest);
}

/** "openspliceai-mane at 80, 400, 2000, 10000; openspliceai-mouse at 10000": names with their contexts. */
export function describeContexts(sets: readonly { name: string; context: number }[]): string {
  const byName = new Map<string, number[]>();
  for (const s of sets) byName.set(s.name, [...(byName.get(s.name) ?? []), s.context]);
  return [...byName].map(([name, contexts]) => `${name} at ${contexts.sort((a, b) => a - b).join(', ')}`).join('; ');
}
