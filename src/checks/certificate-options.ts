import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { type ConnectionOptions, rootCertificates, type TLSSocket } from 'node:tls';
import { z } from 'zod';
import { caFile, strictObject } from '../config/zod-helpers.ts';
import { hostAddress, unbracket } from './remote-endpoint.ts';
import type { RunError } from './run-result.ts';

// Shared by the smtp and ftp probes (TLS in the middle of a dialogue): how a TLS peer is verified, and what is kept of it.

export const certificateOptionsSchema = strictObject({
  /**
   * Verify the certificate chain and that it names the host (default true). false still
   * encrypts and still records the certificate, for servers with a self-made certificate.
   */
  verify: z.boolean().default(true),
  /** PEM file of CAs to trust besides the system store, relative to the config file. */
  ca: caFile().optional(),
  /**
   * Name sent as SNI and checked against the certificate; default the configured host
   * (for an IP address no SNI is sent and the certificate must list that IP).
   */
  serverName: hostAddress().optional(),
});
export type CertificateOptions = z.output<typeof certificateOptionsSchema>;

/** The CA file could not be read: a config problem, not a failing target. */
export class CertificateFileError extends Error {
  readonly runError: RunError;
  constructor(path: string, cause: NodeJS.ErrnoException) {
    super(`certificate.ca: cannot read ${path}: ${cause.code ?? cause.message}`);
    this.runError = { class: 'config', message: this.message };
  }
}

/**
 * tls.connect options for `host` as configured. The caller adds `host: <resolved IP>`:
 * the identity check uses `servername || host`, so a configured name is still verified
 * by name while the connection goes to the address already looked up.
 */
export async function tlsConnectOptions(
  certificate: CertificateOptions,
  host: string,
  configDir: string,
): Promise<ConnectionOptions> {
  const bare = unbracket(host);
  let ca: string[] | undefined;
  if (certificate.ca) {
    const path = resolvePath(configDir, certificate.ca);
    try {
      // `ca` replaces Node's trust store, so the system roots are kept alongside the file.
      ca = [...rootCertificates, await readFile(path, 'utf8')];
    } catch (error) {
      throw new CertificateFileError(path, error as NodeJS.ErrnoException);
    }
  }
  const servername = certificate.serverName ?? (isIP(bare) === 0 ? bare.replace(/\.$/, '') : undefined);
  return { rejectUnauthorized: certificate.verify, ca, servername };
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
