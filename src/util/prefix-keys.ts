/**
 * `record` with `prefix` before each key: `prefixKeys('phase.', { dns: 'DNS lookup' })` is
 * `{ 'phase.dns': 'DNS lookup' }`. Lets a message table take in a shared table of words
 * under its own key names, typed key by key.
 */
export function prefixKeys<P extends string, K extends string, V>(
  prefix: P,
  record: Record<K, V>,
): Record<`${P}${K}`, V> {
  return Object.fromEntries(
    Object.entries(record).map(([key, value]) => [`${prefix}${key}`, value]),
  ) as Record<`${P}${K}`, V>;
}
