/**
 * Waits that double from `firstDelayMs` up to `maxDelayMs`: how pathwatch retries what it
 * must not lose while a server is away (alert mail and webhooks, evidence uploads).
 */
export interface RetryBackoff {
  /** The wait before the first retry; each next wait doubles. */
  firstDelayMs: number;
  /** The longest wait between two tries. */
  maxDelayMs: number;
}

/** The wait before retry number `retry` (1 for the first): doubling from firstDelayMs, capped at maxDelayMs. */
export function backoffDelay(retry: number, backoff: RetryBackoff): number {
  // Past 30 doublings any delay is over any cap; the bound keeps 2 ** n finite.
  const doublings = Math.min(Math.max(retry - 1, 0), 30);
  return Math.min(backoff.firstDelayMs * 2 ** doublings, backoff.maxDelayMs);
}
