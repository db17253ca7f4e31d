/**
 * What the key of a periodic collection's file says (`captures/<id>/<stamp>.pcap`, written by
 * capture/periodic-collection.ts): its collection, file name, and the time the slice ends.
 * The stamp is ISO 8601 basic (`20250102T030405.678Z`); a key that is not one is undefined.
 */
export function parseCollectionKey(
  key: string,
): { collection: string; file: string; endsAt: number; base: string } | undefined {
  const match = /^captures\/([^/]+)\/(([0-9]{8}T[0-9]{6}(?:\.[0-9]{1,3})?Z)[^/]*)$/.exec(key);
  if (!match) return undefined;
  const [, collection, file, stamp] = match;
  const iso = stamp.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})/, '$1-$2-$3T$4:$5:$6');
  const endsAt = Date.parse(iso);
  if (!Number.isFinite(endsAt)) return undefined;
  return { collection, file, endsAt, base: key.slice(0, key.length - file.length) + stamp };
}
