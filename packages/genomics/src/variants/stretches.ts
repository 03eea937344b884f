/**
 * Groups the changes scored on one sequence (a transcript, or a contig and strand) into stretches
 * run against one shared reference: the outputs `[lo, hi]` an item needs join a stretch while the
 * gap to it is under one context (a gap that wide costs less to predict than a second reference's
 * edges) and the stretch stays within `maxSpan` outputs.
 */
export interface Stretch<T> {
  /** The first and last output (genome position) the stretch covers. */
  start: number;
  end: number;
  items: T[];
}

/**
 * `items` in stretches, each needing the outputs `spanOf(item)` (in any order; items that start
 * together keep their order). A `maxSpan` of one item's span keeps one start per stretch.
 */
export function groupStretches<T>(items: readonly T[], spanOf: (item: T) => readonly [number, number], context: number, maxSpan = Infinity): Stretch<T>[] {
  const spans = new Map(items.map((item) => [item, spanOf(item)]));
  const sorted = [...items].sort((a, b) => spans.get(a)![0] - spans.get(b)![0]);
  const stretches: Stretch<T>[] = [];
  for (const item of sorted) {
    const [lo, hi] = spans.get(item)!;
    const current = stretches[stretches.length - 1];
    if (current && lo - current.end - 1 < context && hi - current.start < maxSpan) {
      current.end = Math.max(current.end, hi);
      current.items.push(item);
    } else {
      stretches.push({ start: lo, end: hi, items: [item] });
    }
  }
  return stretches;
}
