import type { ErrorClass, RunError } from './run-result.ts';

/**
 * Every stable code a run's error can carry, with its class and what an operator does about
 * it. The class follows from the code, so the two never disagree. README's "Error codes"
 * table lists exactly these rows (test/unit/error-codes.test.ts fails when they differ):
 * add a code here and its README line together.
 */
export const ERROR_CODES = {
  DNS_NOT_FOUND: {
    class: 'dns',
    action:
      'the name has no address: check its spelling and its records (A/AAAA) at the authoritative server',
  },
  DNS_FAILED: {
    class: 'dns',
    action: "the resolver could not answer (EAI_AGAIN): check the probe host's resolver and its upstream",
  },
  DNS_TIMEOUT: {
    class: 'dns',
    action: "the lookup of the target's name took the whole timeout: check the probe host's resolver",
  },
  DNS_NO_ANSWER: {
    class: 'timeout',
    action:
      'the DNS server asked by a `dns` check sent no answer: check that it runs and that UDP/TCP 53 reaches it',
  },
  DNS_RCODE: {
    class: 'assertion',
    action:
      'the DNS server answered with another rcode (NXDOMAIN, SERVFAIL, REFUSED): check the zone and the server',
  },
  CONNECT_REFUSED: {
    class: 'refused',
    action:
      'nothing listens on that port, or a firewall rejects: check the service is up and bound to that address',
  },
  UNREACHABLE: {
    class: 'unreachable',
    action:
      'no route to the host or network (EHOSTUNREACH, ENETUNREACH, ICMP): check routes and firewalls on the path',
  },
  CONNECT_TIMEOUT: {
    class: 'connect_timeout',
    action:
      'no answer to the SYN: a firewall drops it or the host is down; the capture shows where it stopped',
  },
  CONNECTION_RESET: {
    class: 'reset',
    action:
      'the server or a middlebox reset the connection: check the server log and any load balancer or proxy',
  },
  CONNECTION_CLOSED: {
    class: 'reset',
    action:
      'the server closed the connection before answering: check the server log (crash, limit, idle timeout)',
  },
  NETWORK_ERROR: {
    class: 'protocol',
    action: 'another socket error (its errno is in the message): check the probe host and the path',
  },
  TLS_EXPIRED: {
    class: 'tls',
    action: 'the certificate has expired: renew it and check the renewal job',
  },
  TLS_NOT_YET_VALID: {
    class: 'tls',
    action: "the certificate is not valid yet: check the server's certificate and both clocks",
  },
  TLS_UNTRUSTED: {
    class: 'tls',
    action:
      'the chain does not lead to a trusted CA: serve the intermediates, or set `tls.ca` for a private CA',
  },
  TLS_HOSTNAME: {
    class: 'tls',
    action: 'the certificate is for other names: serve the right certificate, or set `tls.serverName`',
  },
  TLS_HANDSHAKE: {
    class: 'tls',
    action: 'the TLS handshake failed (protocol, cipher, no certificate): compare with `openssl s_client`',
  },
  STARTTLS_REFUSED: {
    class: 'tls',
    action: 'the server did not offer or accept STARTTLS / AUTH TLS: enable TLS on it, or change the check',
  },
  CERT_EXPIRES_SOON: {
    class: 'assertion',
    action: 'the certificate works but has fewer days left than `tls.failDays`: renew it',
  },
  TLS_POLICY: {
    class: 'assertion',
    action:
      'issuer or TLS version not as the check requires (`tls.issuer`, `tls.minVersion`): check the server',
  },
  AUTH_REJECTED: {
    class: 'auth',
    action: 'the server refused the login (SMTP 535, FTP 530, HTTP 401/407 with credentials): check `auth`',
  },
  AUTH_UNAVAILABLE: {
    class: 'auth',
    action:
      'the server offers no login pathwatch can use (no AUTH, or no PLAIN/LOGIN): often needs STARTTLS first',
  },
  HTTP_STATUS: {
    class: 'assertion',
    action: 'the HTTP status is not the expected one; a 401 says whether credentials were sent',
  },
  REDIRECT_LOOP: {
    class: 'protocol',
    action:
      'the redirects come back to a URL already seen (the chain is in the message): fix the redirect rules',
  },
  TOO_MANY_REDIRECTS: {
    class: 'protocol',
    action: 'more redirects than `followRedirects` allows: fix the chain, or raise the limit',
  },
  REDIRECT_REFUSED: {
    class: 'protocol',
    action:
      'a redirect to another origin would resend secrets: point the check at the final URL, or set `forwardCredentialsOnRedirect`',
  },
  REPLY_REJECTED: {
    class: 'assertion',
    action: 'the server refused a command (SMTP MAIL/RCPT/DATA, FTP LIST/RETR): its reply is in the message',
  },
  PROTOCOL: {
    class: 'protocol',
    action:
      'the server answered outside the protocol (bad banner, malformed reply): check what listens there',
  },
  ASSERTION: {
    class: 'assertion',
    action: 'the target answered, not as the check expects: expected and actual are in the message',
  },
  SLOW_RESPONSE: {
    class: 'assertion',
    action: 'slower than `maxResponseTime` / `maxRtt`: check the server and the path',
  },
  PACKET_LOSS: {
    class: 'assertion',
    action: 'more echo requests lost than `maxLoss`: check the path (the capture shows the lost ones)',
  },
  BROKEN_LINKS: {
    class: 'assertion',
    action: 'a crawl found links that fail: the pages linking to each are in `details`',
  },
  NO_ECHO_REPLY: {
    class: 'timeout',
    action: 'no ICMP echo reply at all: the host is down or ICMP is filtered on the path',
  },
  TIMEOUT: {
    class: 'timeout',
    action:
      'the named phase ran out of time (no response, stalled transfer): check the server and the capture',
  },
  PING_UNAVAILABLE: {
    class: 'internal',
    action:
      'ping could not run on the worker host: install iputils-ping, allow ICMP sockets, check local firewalls',
  },
  CONFIG: {
    class: 'config',
    action: 'the check cannot run as configured (missing file or secret): the message names the setting',
  },
  CANCELLED: {
    class: 'internal',
    action: 'the run was cut by a stop of its worker (or a cancelled job), not by the target: nothing to do',
  },
  INTERNAL: {
    class: 'internal',
    action: "pathwatch's own failure, not the target's: report it with the message",
  },
} as const satisfies Record<string, { class: ErrorClass; action: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A RunError whose code is known: what every probe reports. */
export type CodedRunError = RunError & { code: ErrorCode };

/** The RunError for `code`, its class taken from the table. */
export function errorOf(code: ErrorCode, message: string, phase?: string): CodedRunError {
  return { class: ERROR_CODES[code].class, code, message, ...(phase !== undefined ? { phase } : {}) };
}
