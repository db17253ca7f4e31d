/** A webhook delivery that failed, in one line, with whether a retry can help. */
export class WebhookDeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'WebhookDeliveryError';
  }
}

/**
 * The URL as messages show it: scheme, host and port, and "/…" for a path. Chat and paging
 * tools put their token in the path or the query; neither reaches statuses or logs.
 */
export function webhookTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '/' : '/…'}`;
  } catch {
    return '(an unparsable URL)';
  }
}

/**
 * Answers a retry can change: request timeout, too early, rate limited, and every 5xx
 * (the receiver is down or overloaded). Any other 4xx says the request itself is refused
 * (wrong path, bad secret, gone) and fails at once; 3xx is handled apart (not followed).
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * Whitespace runs (newlines included) and control characters as one space, cut to `max`
 * characters: one line for a status, whatever a receiver answered.
 */
export function oneLine(text: string, max = 200): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const line = text.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

interface NetworkError {
  name?: string;
  code?: string;
  message?: string;
  cause?: NetworkError;
}

/**
 * Why a request got no answer, in words: refused, unknown host, reset, TLS. fetch wraps the
 * socket's error as `TypeError: fetch failed` with the real one as its cause.
 */
export function describeNetworkError(error: unknown): string {
  let failure = (error ?? {}) as NetworkError;
  for (let depth = 0; depth < 4 && failure.cause && typeof failure.cause === 'object'; depth++) {
    failure = failure.cause;
  }
  const code = failure.code ?? '';
  const message = oneLine(String(failure.message ?? error));
  if (code === 'ECONNREFUSED') return 'unreachable: connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `unreachable: host not found (${message})`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'unreachable: no route to host';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET')
    return `connection reset before an answer (${message})`;
  if (/CERT|TLS|SSL|self[- ]signed/i.test(`${code} ${message}`)) return `TLS failed: ${message}`;
  return `request failed: ${code ? `${code} ` : ''}${message}`;
}
