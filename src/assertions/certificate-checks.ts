import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';
import { z } from 'zod';
import { type CodedRunError, type ErrorCode, errorOf } from '../results/error-codes.ts';
import type { AssertionResult } from '../results/run-result.ts';

const DAY_MS = 86_400_000;

/** Oldest first: a version's index orders it. */
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** Most names listed in a "certificate is for …" message before "(+N more)". */
const NAMES_SHOWN = 5;

/** Node's verification codes that are about validity dates, which are judged (and worded) from the dates themselves. */
const DATE_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** Codes meaning the chain could not be tied to a trusted CA: the message names where it ends. */
const UNTRUSTED_ISSUER_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/** `Let's Encrypt` (case-insensitive substring) or `/^R\d+$/` (a regular expression). */
function issuerMatcher() {
  return z
    .string({ error: 'expected an issuer substring such as "Let\'s Encrypt" or a /regex/' })
    .min(1)
    .refine(
      (text) => {
        const regex = /^\/(.*)\/([imsu]*)$/.exec(text);
        if (!regex) return true;
        try {
          new RegExp(regex[1], regex[2]);
          return true;
        } catch {
          return false;
        }
      },
      { error: (issue) => `not a valid regular expression: ${JSON.stringify(issue.input)}` },
    );
}

/**
 * What a `tls` check expects of a certificate beyond a verifying client's view and the
 * shared `tls` block's limits (`warnDays`, `failDays`, `minVersion`).
 */
export const certificateExpectationsShape = {
  issuer: issuerMatcher()
    .optional()
    .describe(
      "Expected issuer: a case-insensitive substring (`Let's Encrypt`) or `/regex/flags`, matched against the issuer's CN, O and whole DN. Catches a certificate silently re-issued by another CA. Default: any issuer.",
    ),
};

/** A certificate as kept in `details`: plain JSON, no secrets. */
export interface CertificateFacts {
  /** Distinguished name, `CN=localhost, O=Shop`. */
  subject: string;
  commonName?: string;
  /** `DNS:shop.example`, `IP:127.0.0.1`. */
  subjectAltNames: string[];
  issuer: string;
  issuerCommonName?: string;
  issuerOrganization?: string;
  /** ISO 8601. */
  validFrom: string;
  validTo: string;
  /** Whole days until validTo; once expired, minus the whole days since (as messages count them). */
  daysLeft: number;
  fingerprint256: string;
  serialNumber: string;
  /** Public key size in bits (RSA modulus, EC curve): a weak key shows here. */
  keyBits?: number;
  /** The rest of the chain the server sent, leaf excluded, in order. */
  chain: Array<{ subject: string; issuer: string; validTo: string }>;
}

/** What a handshake showed, for `details`. */
export interface TlsSessionFacts {
  /** Negotiated protocol, `TLSv1.3`. */
  protocol: string | null;
  /** IANA cipher suite name. */
  cipher?: string;
  /** The chain verified against the trusted CAs (host name not included). */
  authorized: boolean;
  /** Node's verification code when not authorized: `CERT_HAS_EXPIRED`, `SELF_SIGNED_CERT_IN_CHAIN`… */
  authorizationError?: string;
  certificate?: CertificateFacts;
}

export interface TlsObservation {
  facts: TlsSessionFacts;
  /** Node's objects, leaf first: the identity check needs them, messages name chain members. */
  chain: PeerCertificate[];
}

export interface CertificatePolicy {
  /** Judge validity dates and the chain's trust as a verifying client would. */
  verifyChain: boolean;
  /** Trusted set, for messages: `the system CAs`, `the CAs in /etc/pathwatch/ca.pem`. */
  trustedBy: string;
  /** Name (or IP) the certificate must be for; absent skips the identity check. */
  hostname?: string;
  failDays?: number;
  warnDays?: number;
  issuer?: string;
  minVersion?: TlsVersion;
}

export interface CertificateVerdict {
  status: 'pass' | 'degraded' | 'fail';
  assertions: AssertionResult[];
  /** The first hard failure: class `tls` for what a verifying client refuses, `assertion` for policy. */
  error?: CodedRunError;
}

/** Reads what the handshake on `socket` showed. Call after `secureConnect`. */
export function observeTlsSession(socket: TLSSocket, now = Date.now()): TlsObservation {
  const chain = peerChain(socket);
  const cipher = socket.getCipher();
  const code = socket.authorizationError as unknown;
  return {
    chain,
    facts: {
      protocol: socket.getProtocol(),
      cipher: cipher?.standardName ?? cipher?.name,
      authorized: socket.authorized,
      ...(socket.authorized || !code ? {} : { authorizationError: String(code) }),
      ...(chain.length > 0 ? { certificate: describeCertificate(chain, now) } : {}),
    },
  };
}

interface Finding {
  assertion: AssertionResult;
  /** The error's stable code, which also gives its class (`tls` for what a verifying client refuses). */
  code: ErrorCode;
  message: string;
}

/**
 * Judges an observed handshake. Every check becomes an assertion (kept in the result);
 * the first hard failure, in the order dates → trust → identity → days → issuer → protocol,
 * becomes the run's error, worded to name the certificate and expected vs actual.
 */
export function evaluateCertificate(
  observation: TlsObservation,
  policy: CertificatePolicy,
  now = Date.now(),
): CertificateVerdict {
  const { facts, chain } = observation;
  const certificate = facts.certificate;
  const leaf = chain[0];
  if (!certificate || !leaf) {
    const message = 'the server presented no certificate';
    const assertion = { name: 'certificate presented', ok: false, expected: 'a certificate', actual: 'none' };
    return { status: 'fail', assertions: [assertion], error: errorOf('TLS_HANDSHAKE', message, 'tls') };
  }
  const label = certificateLabel(certificate);
  const validTo = Date.parse(certificate.validTo);
  const validFrom = Date.parse(certificate.validFrom);
  const findings: Finding[] = [];
  const add = (assertion: AssertionResult, code: ErrorCode, message = '') =>
    findings.push({ assertion, code, message });

  const expired = now > validTo;
  const notYetValid = now < validFrom;
  if (policy.verifyChain) {
    const dates = {
      name: 'certificate within its validity dates',
      expected: `${certificate.validFrom} to ${certificate.validTo}`,
    };
    if (expired) {
      const ago = span(now - validTo);
      add(
        { ...dates, ok: false, actual: `expired ${ago} ago` },
        'TLS_EXPIRED',
        `${label} expired ${ago} ago (valid to ${day(validTo)})`,
      );
    } else if (notYetValid) {
      const until = span(validFrom - now);
      add(
        { ...dates, ok: false, actual: `starts in ${until}` },
        'TLS_NOT_YET_VALID',
        `${label} is not valid until ${day(validFrom)} (starts in ${until})`,
      );
    } else add({ ...dates, ok: true, actual: 'valid now' }, 'TLS_EXPIRED');

    const code = facts.authorizationError;
    const leafDatesExplain = code !== undefined && DATE_CODES.has(code) && (expired || notYetValid);
    const trust = { name: 'certificate chain trusted', expected: `trusted by ${policy.trustedBy}` };
    if (facts.authorized || code === undefined || leafDatesExplain)
      add({ ...trust, ok: true, actual: 'trusted' }, 'TLS_UNTRUSTED');
    else
      add(
        { ...trust, ok: false, actual: code },
        'TLS_UNTRUSTED',
        untrustedMessage(label, code, chain, policy.trustedBy, now),
      );
  }

  if (policy.hostname !== undefined) {
    const hostname = policy.hostname.replace(/^\[|\]$/g, '');
    const mismatch = checkServerIdentity(hostname, leaf);
    const names = certificateNames(certificate);
    const shown =
      names.length > NAMES_SHOWN
        ? `${names.slice(0, NAMES_SHOWN).join(', ')} (+${names.length - NAMES_SHOWN} more)`
        : names.join(', ') || '(no names)';
    add(
      { name: `certificate matches ${hostname}`, ok: !mismatch, expected: hostname, actual: names },
      'TLS_HOSTNAME',
      `certificate is for ${shown}, not ${hostname}`,
    );
  }

  for (const finding of expiryFindings(certificate, label, policy, now)) findings.push(finding);

  if (policy.issuer !== undefined) {
    const matcher = textMatcher(policy.issuer);
    const candidates = [certificate.issuerCommonName, certificate.issuerOrganization, certificate.issuer];
    add(
      {
        name: `certificate issuer matches ${matcher.display}`,
        ok: candidates.some((text) => text !== undefined && matcher.test(text)),
        expected: matcher.display,
        actual: certificate.issuer,
      },
      'TLS_POLICY',
      `certificate issuer: expected ${matcher.display}, got ${JSON.stringify(certificate.issuer)}`,
    );
  }

  if (policy.minVersion !== undefined) {
    const negotiated = TLS_VERSIONS.indexOf(facts.protocol as TlsVersion);
    const minimum = TLS_VERSIONS.indexOf(policy.minVersion);
    add(
      {
        name: `TLS protocol ${policy.minVersion} or newer`,
        ok: negotiated >= minimum,
        expected: `>= ${policy.minVersion}`,
        actual: facts.protocol ?? 'unknown',
      },
      'TLS_POLICY',
      `TLS protocol: expected ${policy.minVersion} or newer, got ${facts.protocol ?? 'unknown'}`,
    );
  }

  const assertions = findings.map((finding) => finding.assertion);
  const failed = findings.find((finding) => !finding.assertion.ok && !finding.assertion.degraded);
  if (failed) {
    return {
      status: 'fail',
      assertions,
      error: errorOf(failed.code, failed.message, 'tls'),
    };
  }
  return { status: assertions.some((result) => result.degraded) ? 'degraded' : 'pass', assertions };
}

export interface ExpiryLimits {
  failDays?: number;
  warnDays?: number;
}

/**
 * THE judgement of certificate expiry limits, for every kind: fewer whole days than
 * `failDays` fails (class `assertion`: the certificate still works today), fewer than
 * `warnDays` degrades. Assertions first, then the error for the first failure.
 */
export function judgeExpiry(
  certificate: CertificateFacts,
  limits: ExpiryLimits,
  now = Date.now(),
): { assertions: AssertionResult[]; error?: CodedRunError; degraded: boolean } {
  const label = certificateLabel(certificate);
  const findings = expiryFindings(certificate, label, limits, now);
  const failed = findings.find((finding) => !finding.assertion.ok && !finding.assertion.degraded);
  return {
    assertions: findings.map((finding) => finding.assertion),
    ...(failed ? { error: errorOf(failed.code, failed.message, 'tls') } : {}),
    degraded: findings.some((finding) => finding.assertion.degraded),
  };
}

function expiryFindings(
  certificate: CertificateFacts,
  label: string,
  limits: ExpiryLimits,
  now: number,
): Finding[] {
  const findings: Finding[] = [];
  const validTo = Date.parse(certificate.validTo);
  const left = validTo - now;
  const leftText = left < 0 ? `expired ${span(-left)} ago` : `expires in ${span(left)}`;
  let daysFailed = false;
  if (limits.failDays !== undefined) {
    daysFailed = left < limits.failDays * DAY_MS;
    findings.push({
      assertion: {
        name: `certificate valid for at least ${limits.failDays} days`,
        ok: !daysFailed,
        expected: `>= ${limits.failDays} days`,
        actual: `${certificate.daysLeft} days`,
      },
      code: 'CERT_EXPIRES_SOON',
      message: `${label} ${leftText} (valid to ${day(validTo)}): expected at least ${limits.failDays} days left (failDays)`,
    });
  }
  if (limits.warnDays !== undefined && !daysFailed) {
    const soon = left < limits.warnDays * DAY_MS;
    findings.push({
      assertion: {
        name: `certificate valid for at least ${limits.warnDays} days (degraded limit)`,
        ok: !soon,
        ...(soon ? { degraded: true } : {}),
        expected: `>= ${limits.warnDays} days`,
        actual: `${certificate.daysLeft} days`,
      },
      code: 'CERT_EXPIRES_SOON',
      message: '',
    });
  }
  return findings;
}

/**
 * Whole days left, counted like the "expired N days ago" of messages: rounded toward zero
 * on both sides, so an expired certificate's -N and its message's N agree.
 */
export function wholeDaysLeft(validTo: number, now: number): number {
  const left = validTo - now;
  const days = left >= 0 ? Math.floor(left / DAY_MS) : -Math.floor(-left / DAY_MS);
  return days === 0 ? 0 : days; // never -0
}

function untrustedMessage(
  label: string,
  code: string,
  chain: PeerCertificate[],
  trustedBy: string,
  now: number,
): string {
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT')
    return `${label} is self-signed and not among ${trustedBy} (${code})`;
  if (UNTRUSTED_ISSUER_CODES.has(code)) {
    const top = chain[chain.length - 1];
    return `${label} is not trusted: its chain ends at ${JSON.stringify(nameOf(top.issuer))}, which is not among ${trustedBy} (${code})`;
  }
  if (DATE_CODES.has(code)) {
    // The leaf's dates are fine, so an intermediate (or the root) is out of date.
    const stale = chain.slice(1).find((member) => {
      const to = Date.parse(member.valid_to);
      const from = Date.parse(member.valid_from);
      return now > to || now < from;
    });
    if (stale) {
      const to = Date.parse(stale.valid_to);
      const when =
        now > to
          ? `expired ${span(now - to)} ago`
          : `is not valid until ${day(Date.parse(stale.valid_from))}`;
      return `${label} is not trusted: chain certificate ${JSON.stringify(nameOf(stale.subject))} ${when} (${code})`;
    }
    return `${label} is not trusted: a certificate in its chain is out of its validity dates (${code})`;
  }
  return `${label} is not trusted by ${trustedBy} (${code})`;
}

/** The chain as the server sent it, leaf first; node links it in a loop at a self-signed root. */
function peerChain(socket: TLSSocket): PeerCertificate[] {
  const leaf = socket.getPeerCertificate(true);
  if (!leaf || Object.keys(leaf).length === 0) return [];
  const chain: PeerCertificate[] = [leaf];
  const seen = new Set<string>([leaf.fingerprint256]);
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    const next = current.issuerCertificate;
    if (!next || Object.keys(next).length === 0 || seen.has(next.fingerprint256)) break;
    seen.add(next.fingerprint256);
    chain.push(next);
    current = next;
  }
  return chain;
}

function describeCertificate(chain: PeerCertificate[], now: number): CertificateFacts {
  const leaf = chain[0];
  const validTo = new Date(leaf.valid_to);
  return {
    subject: distinguishedName(leaf.subject),
    ...optional('commonName', first(leaf.subject?.CN)),
    subjectAltNames: parseAltNames(leaf.subjectaltname),
    issuer: distinguishedName(leaf.issuer),
    ...optional('issuerCommonName', first(leaf.issuer?.CN)),
    ...optional('issuerOrganization', first(leaf.issuer?.O)),
    validFrom: new Date(leaf.valid_from).toISOString(),
    validTo: validTo.toISOString(),
    daysLeft: wholeDaysLeft(validTo.getTime(), now),
    fingerprint256: leaf.fingerprint256,
    serialNumber: leaf.serialNumber,
    ...(leaf.bits ? { keyBits: leaf.bits } : {}),
    chain: chain.slice(1).map((member) => ({
      subject: distinguishedName(member.subject),
      issuer: distinguishedName(member.issuer),
      validTo: new Date(member.valid_to).toISOString(),
    })),
  };
}

type NameParts = PeerCertificate['subject'] | undefined;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function optional<Key extends string>(key: Key, value: string | undefined): Partial<Record<Key, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<Key, string>);
}

function distinguishedName(name: NameParts): string {
  if (!name) return '';
  return Object.entries(name)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(', ');
}

/** The name a person knows an issuer or subject by: CN, else O, else the whole DN. */
function nameOf(name: NameParts): string {
  return first(name?.CN) ?? first(name?.O) ?? distinguishedName(name);
}

/** `DNS:a, IP Address:127.0.0.1` → [`DNS:a`, `IP:127.0.0.1`]. */
function parseAltNames(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .split(/,\s*/)
    .map((entry) => entry.replace(/^IP Address:/, 'IP:'))
    .filter((entry) => entry.length > 0);
}

/** `certificate for shop.example`: how messages name the leaf. */
function certificateLabel(certificate: CertificateFacts): string {
  return `certificate for ${certificate.commonName ?? certificateNames(certificate)[0] ?? certificate.subject}`;
}

/** Names a certificate is for: its DNS and IP alternative names, else its CN. */
function certificateNames(certificate: CertificateFacts): string[] {
  const names = certificate.subjectAltNames
    .filter((entry) => entry.startsWith('DNS:') || entry.startsWith('IP:'))
    .map((entry) => entry.slice(entry.indexOf(':') + 1));
  return names.length > 0 ? names : certificate.commonName ? [certificate.commonName] : [];
}

function textMatcher(spec: string): { test(text: string): boolean; display: string } {
  const regex = /^\/(.*)\/([imsu]*)$/.exec(spec);
  if (regex) {
    const pattern = new RegExp(regex[1], regex[2]);
    return { test: (text) => pattern.test(text), display: spec };
  }
  const needle = spec.toLowerCase();
  return { test: (text) => text.toLowerCase().includes(needle), display: JSON.stringify(spec) };
}

/** `5 days`, `1 day`, `3 hours`, `1 minute`: whole units, rounded down. */
function span(ms: number): string {
  const units: Array<[number, string]> = [
    [DAY_MS, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
  ];
  for (const [size, unit] of units) {
    const count = Math.floor(ms / size);
    if (count >= 1) return `${count} ${unit}${count === 1 ? '' : 's'}`;
  }
  return 'less than a minute';
}

/** `2025-11-24`. */
function day(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}
