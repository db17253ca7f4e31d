import type { ErrorClass, RunError } from '../results/run-result.ts';

const PHASE_WORDS: Record<string, string> = {
  dns: 'dns lookup',
  connect: 'connect',
  tls: 'TLS handshake',
  firstByte: 'waiting for the first byte',
  download: 'download',
  banner: 'waiting for the banner',
};

/** What a timeout means in each phase, and the class it gets. */
export function timeoutError(phase: string | undefined, target: string, timeoutMs: number): RunError {
  const ms = Math.round(timeoutMs);
  switch (phase) {
    case 'dns':
      return { class: 'dns', phase, message: `dns lookup of ${target} timed out after ${ms} ms` };
    case 'connect':
      return { class: 'connect_timeout', phase, message: `connect to ${target} timed out after ${ms} ms` };
    case 'tls':
      return { class: 'timeout', phase, message: `TLS handshake with ${target} timed out after ${ms} ms` };
    case 'firstByte':
      return {
        class: 'timeout',
        phase,
        message: `${target} accepted the connection but sent no response within ${ms} ms`,
      };
    default: {
      const words = phase ? (PHASE_WORDS[phase] ?? phase) : 'run';
      return { class: 'timeout', phase, message: `${words} with ${target} timed out after ${ms} ms` };
    }
  }
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

/**
 * Maps a socket error to a class and one line a person can act on. `target` is what was
 * being talked to (`127.0.0.1:443` or a host name) and `phase` what was running.
 */
export function classifyNetworkError(error: unknown, phase: string | undefined, target: string): RunError {
  const err = error as NodeJS.ErrnoException & { reason?: string; hostname?: string };
  const code = err?.code ?? '';
  const during = phase ? ` during ${PHASE_WORDS[phase] ?? phase}` : '';
  let errorClass: ErrorClass = 'protocol';
  let message: string;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NODATA' || code === 'EAI_FAIL') {
    errorClass = 'dns';
    message =
      code === 'EAI_AGAIN'
        ? `dns lookup of ${err.hostname ?? target} failed temporarily (EAI_AGAIN)`
        : `dns lookup of ${err.hostname ?? target} found no address (${code})`;
  } else if (code === 'ECONNREFUSED') {
    errorClass = 'refused';
    message = `connect to ${target} refused`;
  } else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    // A route is missing (here or at a router on the way), not a refusal by the target.
    errorClass = 'unreachable';
    message = `connect to ${target} failed: no route to the ${code === 'EHOSTUNREACH' ? 'host' : 'network'} (${code})`;
  } else if (code === 'ECONNRESET' || code === 'EPIPE' || err?.message === 'socket hang up') {
    errorClass = 'reset';
    message = `connection to ${target} was reset by the server${during}`;
  } else if (code === 'ETIMEDOUT') {
    errorClass = 'connect_timeout';
    message = `connect to ${target} timed out (ETIMEDOUT)`;
  } else if (TLS_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
    errorClass = 'tls';
    const reason = TLS_REASONS[code] ?? err.reason ?? err.message;
    message = `TLS with ${target} failed: ${reason}`;
  } else {
    message = `${target}: ${err?.message ?? String(error)}${code ? ` (${code})` : ''}`;
  }
  return { class: errorClass, phase, message };
}
