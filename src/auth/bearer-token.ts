/**
 * The token of an `Authorization: Bearer <token>` header. The scheme is case-insensitive
 * (RFC 9110 §11.1: `bearer`, `BEARER`), spaces around it are tolerated; anything else (no
 * header, another scheme, an empty or spaced token) is undefined.
 */
export function bearerTokenOf(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^\s*bearer[ \t]+([^\s]+)\s*$/i.exec(header);
  return match?.[1];
}
