/**
 * Capturing is not possible on this host (no tcpdump, or not enough privilege). Monitoring
 * goes on without captures; the message says exactly what is missing and how to fix it.
 */
export class CaptureUnavailableError extends Error {
  readonly code = 'CAPTURE_UNAVAILABLE';

  constructor(
    message: string,
    /** What is missing, e.g. `['CAP_NET_RAW', 'CAP_NET_ADMIN']` or `['tcpdump']`. */
    readonly missing: string[],
  ) {
    super(message);
    this.name = 'CaptureUnavailableError';
  }
}
