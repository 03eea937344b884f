/**
 * Groups the positions scored in one transcript into stretches run against one shared reference:
 * the outputs `pos - dist .. pos + dist` of neighbouring positions join a stretch while the gap to
 * it is under one context (a gap that wide costs less to predict than a second reference's edges)
 * and the stretch stays within `maxSpan` outputs.
 */
export interface Stretch<T> {
  /** The first and last output (genome position) the stretch covers. */
  start: number;
  end: number;
  items: T[];
}

/**
 * `items` in stretches of positions (each item at `positionOf(item)`, in any order; items at one
 * position keep their order). `maxSpan` of `2 * dist + 1` keeps one position per stretch.
 */
export function groupStretches<T>(items: readonly T[], positionOf: (item: T) => number, dist: number, context: number, maxSpan = Infinity): Stretch<T>[] {
  const sorted = [...items].sort((a, b) => positionOf(a) - positionOf(b));
  const stretches: Stretch<T>[] = [];
  for (const item of sorted) {
    const pos = positionOf(item);
    const current = stretches[stretches.length - 1];
    if (current && pos - dist - current.end - 1 < context && pos + dist - current.start < maxSpan) {
      current.end = pos + dist;
      current.items.push(item);
    } else {
      stretches.push({ start: pos - dist, end: pos + dist, items: [item] });
    }
  }
  return stretches;
}
