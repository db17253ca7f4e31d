import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How long a download link on the Captures page opens its file: long enough to click it,
 * short enough that a link copied out of the page (a chat, a ticket) soon opens nothing.
 */
export const CAPTURE_LINK_TTL_MS = 10 * 60_000;

/** One capture file: a run's slice (or its analysis), or a file of a periodic collection. */
export interface CaptureFile {
  source: 'run' | 'collection';
  /** The run id, or the collection id. */
  id: string;
  /** The file's name within the run's artifacts or the collection. */
  name: string;
}

export type CaptureLinkCheck = { ok: true } | { ok: false; reason: 'expired' | 'invalid' };

/**
 * The mails' signed links (auth/signed-link.ts) open all of one run's evidence, traces
 * included, and cannot name a periodic collection; a link on this page opens one file. Same
 * link key, another purpose in the MAC (as console sessions do), so neither kind of
 * signature is ever taken for the other.
 */
function mac(key: Buffer, file: CaptureFile, expSeconds: number): string {
  return createHmac('sha256', key)
    .update(`console-capture-file.v1\n${file.source}\n${file.id}\n${file.name}\n${expSeconds}`)
    .digest('base64url');
}

/** `exp` (epoch seconds) and `sig`: what opens `file` until `expiresAt` for whoever has them. */
export function signCaptureFile(
  key: Buffer,
  file: CaptureFile,
  expiresAt: number,
): { exp: string; sig: string } {
  const expSeconds = Math.floor(expiresAt / 1000);
  return { exp: String(expSeconds), sig: mac(key, file, expSeconds) };
}

/** The path that downloads `file` through a signed link (its parts URL-encoded). */
export function captureFilePath(file: CaptureFile, link: { exp: string; sig: string }): string {
  return `/captures/files/${file.source}/${encodeURIComponent(file.id)}/${encodeURIComponent(file.name)}?exp=${link.exp}&sig=${link.sig}`;
}

/**
 * Whether `exp` and `sig` open `file` now: a changed file, expiry or signature is `invalid`;
 * a genuine link past its expiry is `expired` (so the answer can say which).
 */
export function verifyCaptureFile(
  key: Buffer,
  file: CaptureFile,
  exp: string | undefined,
  sig: string | undefined,
  now = Date.now(),
): CaptureLinkCheck {
  if (!exp || !sig || !/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig))
    return { ok: false, reason: 'invalid' };
  const expected = Buffer.from(mac(key, file, Number(exp)));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'invalid' };
  return now > Number(exp) * 1000 ? { ok: false, reason: 'expired' } : { ok: true };
}
