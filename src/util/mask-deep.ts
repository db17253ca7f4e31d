/**
 * A copy of `value` with `mask` applied to every string in it, keys included, however deep:
 * a result is masked as a whole where it leaves the probe, so no field (an assertion's
 * `actual`, a detail, a step name) depends on its author remembering to mask it.
 * Non-plain values (Dates, Buffers) are kept as they are; cycles are cut.
 */
export function maskDeep<T>(value: T, mask: (text: string) => string): T {
  const ancestors = new Set<object>();
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return mask(item);
    if (item === null || typeof item !== 'object') return item;
    if (ancestors.has(item)) return undefined;
    const prototype = Object.getPrototypeOf(item);
    if (!Array.isArray(item) && prototype !== Object.prototype && prototype !== null) return item;
    ancestors.add(item);
    try {
      if (Array.isArray(item)) return item.map(walk);
      const copy: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(item)) copy[mask(key)] = walk(field);
      return copy;
    } finally {
      ancestors.delete(item);
    }
  };
  return walk(value) as T;
}
