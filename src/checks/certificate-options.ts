import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { type ConnectionOptions, rootCertificates, type TLSSocket } from 'node:tls';
import { secretRefsIn } from '../config/secret-resolver.ts';
import { DEFAULT_TLS_SETTINGS, type TlsSettings } from '../config/tls-settings.ts';
import type { ProbeOutcome } from '../results/run-result.ts';
import { TlsFileError } from './errors/tls-file-error.ts';
import type { ProbeContext } from './probe.ts';
import { unbracket } from './remote-endpoint.ts';

/** Node TLS options built from a check's `tls` block, and how messages name the trusted CAs. */
export interface TlsConnection {
  options: ConnectionOptions;
  /** `the system CAs`, `the system CAs and the CAs in /etc/pki/ca.pem`, `the CAs in …`. */
  trustedBy: string;
  /** The name the certificate must be for: `serverName`, else the host. */
  identity: string;
  settings: TlsSettings;
}

/**
 * THE way a check's `tls` block becomes Node TLS options, for every kind: `ca` added to
 * (`caRoots: add`) or replacing (`replace`) the system roots, SNI (never an IP address, RFC
 * 6066), verification, client certificate and key, oldest protocol. The caller adds
 * `host: <resolved IP>` and, for an upgrade, `socket`. Files are read here; one that cannot
 * be read throws TlsFileError (class `config`).
 */
export async function tlsConnection(
  settings: TlsSettings | undefined,
  host: string,
  context: Pick<ProbeContext, 'configDir' | 'secrets'>,
): Promise<TlsConnection> {
  const block = settings ?? DEFAULT_TLS_SETTINGS;
  const bare = unbracket(host).replace(/\.$/, '');
  const name = block.serverName ?? bare;
  const options: ConnectionOptions = {
    rejectUnauthorized: block.verify,
    servername: isIP(name) === 0 ? name : undefined,
    minVersion: block.minVersion,
  };
  let trustedBy = 'the system CAs';
  if (block.ca !== undefined) {
    const path = resolvePath(context.configDir, block.ca);
    const pem = await readPem('ca', path);
    // Node's `ca` replaces its trust store: "add" hands it the system roots as well.
    options.ca = block.caRoots === 'replace' ? pem : [...rootCertificates, pem];
    trustedBy = block.caRoots === 'replace' ? `the CAs in ${path}` : `the system CAs and the CAs in ${path}`;
  }
  if (block.cert !== undefined && block.key !== undefined) {
    options.cert = await readPem('cert', resolvePath(context.configDir, block.cert));
    options.key =
      secretRefsIn(block.key).length > 0
        ? context.secrets.interpolate(block.key)
        : await readPem('key', resolvePath(context.configDir, block.key));
  }
  return { options, trustedBy, identity: name, settings: block };
}

async function readPem(field: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new TlsFileError(field, path, (error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
}

/** The outcome of a run stopped before any packet by an unreadable `tls` file. */
export function tlsFileErrorOutcome(error: TlsFileError, details?: Record<string, unknown>): ProbeOutcome {
  return {
    status: 'error',
    phases: { total: 0 },
    peers: [],
    error: error.runError,
    ...(details ? { details } : {}),
  };
}

export interface TlsSummary {
  protocol?: string;
  cipher?: string;
  subject?: string;
  issuer?: string;
  validTo?: string;
  /** Why the chain was not trusted, when `verify: false` let the handshake through anyway. */
  authorizationError?: string;
}

/** The facts worth keeping about a finished handshake. */
export function summarizeTls(socket: TLSSocket): TlsSummary {
  const certificate = socket.getPeerCertificate();
  const summary: TlsSummary = {
    protocol: socket.getProtocol() ?? undefined,
    cipher: socket.getCipher()?.name,
  };
  if (certificate && Object.keys(certificate).length > 0) {
    summary.subject = String(certificate.subject?.CN ?? '');
    summary.issuer = String(certificate.issuer?.CN ?? certificate.issuer?.O ?? '');
    const validTo = new Date(certificate.valid_to);
    if (!Number.isNaN(validTo.getTime())) summary.validTo = validTo.toISOString();
  }
  if (!socket.authorized && socket.authorizationError)
    summary.authorizationError = String(socket.authorizationError);
  return summary;
}
