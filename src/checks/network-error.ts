import { type CodedRunError, type ErrorCode, errorOf } from '../results/error-codes.ts';

const PHASE_WORDS: Record<string, string> = {
  dns: 'dns lookup',
  connect: 'connect',
  tls: 'TLS handshake',
  firstByte: 'waiting for the first byte',
  download: 'download',
  banner: 'waiting for the banner',
};

/**
 * What the run was waiting for when its time ran out, past dns, connect and the TLS
 * handshake (those read the same for every kind):
 * - `first`: the first bytes after connecting (`response`, `SMTP banner`): "accepted the connection but sent no …";
 * - `reply`: a line or reply mid-conversation (`the reply to step 2`), with what was `heard` of it;
 * - `task`: a whole command or transfer (`FTP RETR /file`);
 * - `dnsAnswer`: the answer of a DNS server to a question (`A shop.example`), over `udp` or `tcp`.
 */
export type Awaiting =
  | { kind: 'first'; what: string }
  | { kind: 'reply'; what: string; heard?: string }
  | { kind: 'task'; what: string }
  | { kind: 'dnsAnswer'; question: string; transport: 'udp' | 'tcp' };

/**
 * THE wording of every probe timeout, and the class and code it gets: `phase` is what was
 * running, `target` what was talked to (`127.0.0.1:443` or a name), `awaiting` what was due.
 */
export function timeoutError(
  phase: string | undefined,
  target: string,
  timeoutMs: number,
  awaiting?: Awaiting,
): CodedRunError {
  const ms = Math.round(timeoutMs);
  switch (phase) {
    case 'dns':
      return errorOf('DNS_TIMEOUT', `dns lookup of ${target} timed out after ${ms} ms`, phase);
    case 'connect':
      return errorOf('CONNECT_TIMEOUT', `connect to ${target} timed out after ${ms} ms`, phase);
    case 'tls':
      return errorOf('TIMEOUT', `TLS handshake with ${target} timed out after ${ms} ms`, phase);
  }
  switch (awaiting?.kind) {
    case 'first':
      return errorOf(
        'TIMEOUT',
        `${target} accepted the connection but sent no ${awaiting.what} within ${ms} ms`,
        phase,
      );
    case 'reply':
      return errorOf(
        'TIMEOUT',
        `waiting for ${awaiting.what} from ${target} timed out after ${ms} ms${awaiting.heard ?? ''}`,
        phase,
      );
    case 'task':
      return errorOf('TIMEOUT', `${awaiting.what} on ${target} timed out after ${ms} ms`, phase);
    case 'dnsAnswer':
      return errorOf(
        'DNS_NO_ANSWER',
        `DNS server ${target} sent no answer to ${awaiting.question} within ${ms} ms${awaiting.transport === 'tcp' ? ' over TCP' : ''}`,
        phase,
      );
  }
  if (phase === 'firstByte')
    return timeoutError(phase, target, timeoutMs, { kind: 'first', what: 'response' });
  const words = phase ? (PHASE_WORDS[phase] ?? phase) : 'run';
  return errorOf('TIMEOUT', `${words} with ${target} timed out after ${ms} ms`, phase);
}

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'HOSTNAME_MISMATCH',
]);

const TLS_REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'certificate is self-signed and not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'certificate chain ends in an untrusted self-signed certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate issuer is not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate issuer is not trusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate does not match the host name',
};

/** Node's TLS error codes that have a code of their own; the rest are TLS_HANDSHAKE. */
const TLS_ERROR_CODES: Record<string, ErrorCode> = {
  CERT_HAS_EXPIRED: 'TLS_EXPIRED',
  CERT_NOT_YET_VALID: 'TLS_NOT_YET_VALID',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS_UNTRUSTED',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS_UNTRUSTED',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS_UNTRUSTED',
  UNABLE_TO_GET_ISSUER_CERT: 'TLS_UNTRUSTED',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS_UNTRUSTED',
  CERT_UNTRUSTED: 'TLS_UNTRUSTED',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS_HOSTNAME',
  HOSTNAME_MISMATCH: 'TLS_HOSTNAME',
};

/**
 * Maps a socket error to a class, a code and one line a person can act on. `target` is what
 * was being talked to (`127.0.0.1:443` or a host name) and `phase` what was running.
 */
export function classifyNetworkError(
  error: unknown,
  phase: string | undefined,
  target: string,
): CodedRunError {
  const err = error as NodeJS.ErrnoException & { reason?: string; hostname?: string };
  const code = err?.code ?? '';
  const during = phase ? ` during ${PHASE_WORDS[phase] ?? phase}` : '';
  if (code === 'ENOTFOUND' || code === 'EAI_NODATA' || code === 'EAI_FAIL')
    return errorOf(
      'DNS_NOT_FOUND',
      `dns lookup of ${err.hostname ?? target} found no address (${code})`,
      phase,
    );
  if (code === 'EAI_AGAIN')
    return errorOf(
      'DNS_FAILED',
      `dns lookup of ${err.hostname ?? target} failed temporarily (EAI_AGAIN)`,
      phase,
    );
  if (code === 'ECONNREFUSED') return errorOf('CONNECT_REFUSED', `connect to ${target} refused`, phase);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    // A route is missing (here or at a router on the way), not a refusal by the target.
    const what = code === 'EHOSTUNREACH' ? 'host' : 'network';
    return errorOf('UNREACHABLE', `connect to ${target} failed: no route to the ${what} (${code})`, phase);
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || err?.message === 'socket hang up')
    return errorOf('CONNECTION_RESET', `connection to ${target} was reset by the server${during}`, phase);
  if (code === 'ETIMEDOUT')
    return errorOf('CONNECT_TIMEOUT', `connect to ${target} timed out (ETIMEDOUT)`, phase);
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
    const reason = TLS_REASONS[code] ?? err.reason ?? err.message;
    return errorOf(TLS_ERROR_CODES[code] ?? 'TLS_HANDSHAKE', `TLS with ${target} failed: ${reason}`, phase);
  }
  const message = `${target}: ${err?.message ?? String(error)}${code ? ` (${code})` : ''}`;
  return errorOf('NETWORK_ERROR', message, phase);
}
