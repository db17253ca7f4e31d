import type { ByteRangeRequest } from '../../artifacts/artifact-store.ts';

/** Largest byte position taken: beyond it a number is not exact in a double. */
const MAX_POSITION = Number.MAX_SAFE_INTEGER;

/**
 * The one byte range a `Range` header asks for (RFC 9110 §14.1.2: `bytes=a-b`, `bytes=a-`,
 * `bytes=-n`), or undefined when the whole representation is to be sent: no header, another
 * unit, a malformed one, or several ranges (§14.2 lets a server ignore Range; a multipart
 * answer is more than a capture download needs, and a client asking for several still gets
 * every byte).
 */
export function parseRangeHeader(header: string | undefined): ByteRangeRequest | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!match) return undefined;
  const specs = match[1].split(',').map((spec) => spec.trim());
  if (specs.length !== 1) return undefined;
  const spec = /^(\d{0,16})-(\d{0,16})$/.exec(specs[0]);
  if (!spec) return undefined;
  const [, first, last] = spec;
  if (first === '' && last === '') return undefined;
  const firstPos = first === '' ? undefined : Number(first);
  const lastPos = last === '' ? undefined : Number(last);
  if ((firstPos ?? 0) > MAX_POSITION || (lastPos ?? 0) > MAX_POSITION) return undefined;
  if (firstPos === undefined) return { suffix: lastPos as number };
  // last-pos before first-pos makes the header invalid, which is ignored (§14.1.1).
  if (lastPos !== undefined && lastPos < firstPos) return undefined;
  return lastPos === undefined ? { start: firstPos } : { start: firstPos, end: lastPos };
}
