import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { API_ROLES, type ApiRole } from '../auth/api-role.ts';
import type { ApiTokenEntry, TokenTable } from '../auth/token-table.ts';

/** The cookie a signed-in browser sends; it holds who and until when, never the token. */
export const SESSION_COOKIE = 'pathwatch_session';

/** How long a console session lasts: a working day. */
export const SESSION_TTL_MS = 8 * 3_600_000;

export interface ConsoleSession {
  /** The token's name in api.tokens (who), and its role. */
  name: string;
  role: ApiRole;
  /** Epoch ms. */
  expiresAt: number;
  /**
   * A digest of the token's configured hash: a session lasts only as long as its token is in
   * api.tokens unchanged (removed or replaced: every session made with it ends at once).
   */
  tokenTag: string;
}

/** What a session keeps of its token: 16 hex of a digest of the hash (never the token). */
export function tokenTagOf(entry: ApiTokenEntry): string {
  return createHash('sha256').update(`console-session-token.${entry.hash}`).digest('hex').slice(0, 16);
}

function mac(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(`console-session.${payload}`).digest('base64url');
}

/** `<payload>.<mac>`: the session, signed with the link key (one key, another purpose in the MAC). */
export function signSession(key: Buffer, session: ConsoleSession): string {
  const payload = Buffer.from(
    JSON.stringify([session.name, session.role, session.expiresAt, session.tokenTag]),
  ).toString('base64url');
  return `${payload}.${mac(key, payload)}`;
}

/** The session a cookie value holds, when its MAC is right and it has not expired. */
export function verifySession(
  key: Buffer,
  value: string | undefined,
  now = Date.now(),
): ConsoleSession | undefined {
  if (!value || value.length > 1000) return undefined;
  const [payload, signature] = value.split('.');
  if (!payload || !signature) return undefined;
  const expected = Buffer.from(mac(key, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const [name, role, expiresAt, tokenTag] = JSON.parse(
      Buffer.from(payload, 'base64url').toString('utf8'),
    ) as [string, ApiRole, number, string];
    if (
      typeof name !== 'string' ||
      !API_ROLES.includes(role) ||
      typeof expiresAt !== 'number' ||
      typeof tokenTag !== 'string'
    )
      return undefined;
    return expiresAt > now ? { name, role, expiresAt, tokenTag } : undefined;
  } catch {
    return undefined;
  }
}

/** A cookie header's value for `name`, if any. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

/**
 * The token a signed-in browser stands for: its session cookie verified, and its token still
 * in `table` unchanged, with the role the table gives it now.
 */
export function sessionTokenEntry(
  key: Buffer,
  table: TokenTable,
  cookieHeader: string | undefined,
  now = Date.now(),
): { session: ConsoleSession; entry: ApiTokenEntry } | undefined {
  const session = verifySession(key, cookieValue(cookieHeader, SESSION_COOKIE), now);
  if (!session) return undefined;
  const entry = table.named(session.name);
  if (!entry || tokenTagOf(entry) !== session.tokenTag) return undefined;
  return { session: { ...session, role: entry.role }, entry };
}
