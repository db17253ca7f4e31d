/**
 * `value` with `mask` applied to every string in it, keys included, however deep: a result
 * is masked as a whole where it leaves the probe, so no field (an assertion's `actual`, a
 * detail, a step name) depends on its author remembering to mask it. Non-plain values
 * (Dates, Buffers) are kept as they are; cycles are cut.
 *
 * Copy on write: an object or array is copied only when something in it changed, and one
 * whose strings hold nothing to mask is returned as it is. Every run's result goes through
 * here, and almost none holds a secret; copying each whole cost the worker a tenth of its CPU
 * per run in allocation and garbage collection. The input is never modified.
 */
export function maskDeep<T>(value: T, mask: (text: string) => string): T {
  const ancestors = new Set<object>();
  const walk = (item: unknown): unknown => {
    if (typeof item === 'string') return mask(item);
    if (item === null || typeof item !== 'object') return item;
    // A cycle is cut: the undefined differs from the item, so its parent is copied without it.
    if (ancestors.has(item)) return undefined;
    const prototype = Object.getPrototypeOf(item);
    if (!Array.isArray(item) && prototype !== Object.prototype && prototype !== null) return item;
    ancestors.add(item);
    try {
      return Array.isArray(item) ? walkArray(item) : walkObject(item as Record<string, unknown>);
    } finally {
      ancestors.delete(item);
    }
  };
  const walkArray = (items: unknown[]): unknown[] => {
    let copy: unknown[] | undefined;
    for (let index = 0; index < items.length; index++) {
      const masked = walk(items[index]);
      if (copy === undefined && masked !== items[index]) copy = items.slice(0, index);
      copy?.push(masked);
    }
    return copy ?? items;
  };
  const walkObject = (item: Record<string, unknown>): Record<string, unknown> => {
    const entries = Object.entries(item);
    let copy: Record<string, unknown> | undefined;
    for (let index = 0; index < entries.length; index++) {
      const [key, field] = entries[index];
      const maskedKey = mask(key);
      const masked = walk(field);
      if (copy === undefined && (maskedKey !== key || masked !== field)) {
        copy = {};
        for (const [earlierKey, earlierField] of entries.slice(0, index)) copy[earlierKey] = earlierField;
      }
      if (copy !== undefined) copy[maskedKey] = masked;
    }
    return copy ?? item;
  };
  return walk(value) as T;
}
