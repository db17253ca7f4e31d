import { createHmac, timingSafeEqual } from 'node:crypto';

/** Request headers a webhook delivery carries (lower case, as node:http shows them). */
export const WEBHOOK_HEADERS = {
  event: 'x-pathwatch-event',
  delivery: 'x-pathwatch-delivery',
  timestamp: 'x-pathwatch-timestamp',
  signature: 'x-pathwatch-signature',
} as const;

/**
 * How far a delivery's timestamp may be from the receiver's clock, in seconds, before
 * verify refuses it: long enough for clock skew and a slow hop, short enough that a
 * captured request cannot be replayed later.
 */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<raw body>"), the `X-Pathwatch-Signature`
 * value. The timestamp is inside the MAC (the Stripe/GitHub style) so it cannot be changed
 * to make an old request look fresh. `timestamp` is Unix seconds; `body` the exact bytes sent.
 */
export function signWebhook(secret: string, timestamp: number | string, body: string | Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `sha256=${mac}`;
}

export interface WebhookVerification {
  /** `X-Pathwatch-Signature` as received. */
  signature: string | undefined;
  /** `X-Pathwatch-Timestamp` as received. */
  timestamp: string | undefined;
  /** The raw request body, before any JSON parsing: re-serialised JSON would not match. */
  body: string | Buffer;
  secret: string;
  /**
   * The receiver's clock, Unix seconds.
   * @defaultValue now
   */
  nowSeconds?: number;
  /**
   * Largest accepted difference between the timestamp and `nowSeconds`, either way.
   * @defaultValue WEBHOOK_TOLERANCE_SECONDS (5 minutes)
   */
  toleranceSeconds?: number;
}

export type WebhookVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Checks a received delivery, for receivers and tests: the signature must be the HMAC of
 * this timestamp and body with the secret (compared in constant time), and the timestamp
 * within 5 minutes (`toleranceSeconds`) of the receiver's clock, so a captured request
 * cannot be replayed later. Receivers should also drop a repeated `X-Pathwatch-Delivery`:
 * a retry after a lost answer sends the same alert again, with the same delivery key.
 * Several `sha256=` values separated by commas are accepted (any one matching).
 */
export function verifyWebhook(input: WebhookVerification): WebhookVerdict {
  const { signature, timestamp, body, secret } = input;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp.trim())) {
    return { ok: false, reason: 'missing or malformed X-Pathwatch-Timestamp (expected Unix seconds)' };
  }
  const stamp = timestamp.trim();
  const seconds = Number(stamp);
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = input.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (Math.abs(now - seconds) > tolerance) {
    return {
      ok: false,
      reason: `timestamp ${seconds} is more than ${tolerance} s from now (${now}): stale or replayed`,
    };
  }
  const offered = (signature ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => /^sha256=[0-9a-f]{64}$/i.test(part));
  if (offered.length === 0) {
    return {
      ok: false,
      reason: 'missing or malformed X-Pathwatch-Signature (expected sha256=<64 hex digits>)',
    };
  }
  // The MAC covers the header as sent, digit for digit.
  const expected = Buffer.from(signWebhook(secret, stamp, body).slice('sha256='.length), 'hex');
  const matches = offered.some((part) =>
    timingSafeEqual(Buffer.from(part.slice('sha256='.length), 'hex'), expected),
  );
  return matches
    ? { ok: true }
    : { ok: false, reason: 'signature does not match (wrong secret or altered body)' };
}
