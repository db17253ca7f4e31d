import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What a signed link opens: one run's evidence (its page and the files it lists), until
 * `expiresAt`. The signature covers both, so neither can be changed.
 */
export interface LinkGrant {
  runId: string;
  /** Epoch ms after which the link is refused. */
  expiresAt: number;
}

export type LinkCheck = { ok: true; grant: LinkGrant } | { ok: false; reason: 'expired' | 'invalid' };

const VERSION = 'v1';

function signature(key: Buffer, grant: LinkGrant): string {
  return createHmac('sha256', key)
    .update(`${VERSION}\n${grant.runId}\n${Math.floor(grant.expiresAt / 1000)}`)
    .digest('base64url');
}

/** Query parameters that open `grant` for whoever has the URL: `exp` (epoch seconds) and `sig`. */
export function signLink(key: Buffer, grant: LinkGrant): { exp: string; sig: string } {
  return { exp: String(Math.floor(grant.expiresAt / 1000)), sig: signature(key, grant) };
}

/**
 * Whether `exp` and `sig` open run `runId` now. A changed run id, expiry or signature is
 * `invalid`; a genuine link past its expiry is `expired` (so the page can say which).
 */
export function verifyLink(
  key: Buffer,
  runId: string,
  exp: string | undefined,
  sig: string | undefined,
  now = Date.now(),
): LinkCheck {
  if (!exp || !sig || !/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) {
    return { ok: false, reason: 'invalid' };
  }
  const grant = { runId, expiresAt: Number(exp) * 1000 };
  const expected = Buffer.from(signature(key, grant));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'invalid' };
  if (now > grant.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, grant };
}
