import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import {
  type ConnectionOptions,
  createSecureContext,
  rootCertificates,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
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

/** What a `tls` block compiles to once: its files read and its trust store built. */
interface CompiledTls {
  /** `ca`, `cert`, `key` and `minVersion` as read, for callers that pick fields (SocketDialogue). */
  material: Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'minVersion' | 'ciphers'>;
  secureContext: SecureContext;
  trustedBy: string;
}

/**
 * Compiled blocks by block object, then by config directory (plus the key when it is a
 * secret, whose value is the secret resolver's). A config loaded again gives new block
 * objects, so an edited CA, certificate or key file is picked up on reload, never mid-config.
 * Only a successful compile is kept: a file that cannot be read is tried again (and gives the
 * same TlsFileError) on every run.
 */
const compiledByBlock = new WeakMap<TlsSettings, Map<string, Promise<CompiledTls>>>();

/**
 * THE way a check's `tls` block becomes Node TLS options, for every kind: `ca` added to
 * (`caRoots: add`) or replacing (`replace`) the system roots, SNI (never an IP address, RFC
 * 6066), verification, client certificate and key, oldest protocol. The caller adds
 * `host: <resolved IP>` and, for an upgrade, `socket`. Files are read, and the trust store
 * built (`secureContext`), once per block: without it Node parses ~140 system roots into a
 * new store on every connection that passes `ca`. One that cannot be read throws
 * TlsFileError (class `config`).
 */
export async function tlsConnection(
  settings: TlsSettings | undefined,
  host: string,
  context: Pick<ProbeContext, 'configDir' | 'secrets'>,
  handshake: HandshakeOverrides = {},
): Promise<TlsConnection> {
  const block = settings ?? DEFAULT_TLS_SETTINGS;
  const bare = unbracket(host).replace(/\.$/, '');
  const name = block.serverName ?? bare;
  const compiled = await compiledTls(block, context, handshake);
  const options: ConnectionOptions = {
    rejectUnauthorized: block.verify,
    servername: isIP(name) === 0 ? name : undefined,
    ...compiled.material,
    // tls.connect uses this and ignores ca/cert/key/minVersion beside it.
    secureContext: compiled.secureContext,
  };
  return { options, trustedBy: compiled.trustedBy, identity: name, settings: block };
}

/**
 * What a probe asks of the handshake beyond the block: the tls kind accepts old protocols and
 * ciphers so it can name them after the handshake instead of failing in it. Part of the
 * compiled context (a context fixes them), so each set of overrides is compiled once too.
 */
export interface HandshakeOverrides {
  minVersion?: ConnectionOptions['minVersion'];
  ciphers?: string;
}

function compiledTls(
  block: TlsSettings,
  context: Pick<ProbeContext, 'configDir' | 'secrets'>,
  handshake: HandshakeOverrides,
): Promise<CompiledTls> {
  const keyIsSecret = block.key !== undefined && secretRefsIn(block.key).length > 0;
  const overrides = `${handshake.minVersion ?? ''}\0${handshake.ciphers ?? ''}`;
  const cacheKey = keyIsSecret
    ? `${context.configDir}\0${overrides}\0${context.secrets.interpolate(block.key ?? '')}`
    : `${context.configDir}\0${overrides}`;
  let byDir = compiledByBlock.get(block);
  if (!byDir) {
    byDir = new Map();
    compiledByBlock.set(block, byDir);
  }
  const cached = byDir.get(cacheKey);
  if (cached) return cached;
  const compiling = compileTls(block, context, handshake);
  byDir.set(cacheKey, compiling);
  compiling.catch(() => byDir.delete(cacheKey));
  return compiling;
}

async function compileTls(
  block: TlsSettings,
  context: Pick<ProbeContext, 'configDir' | 'secrets'>,
  handshake: HandshakeOverrides,
): Promise<CompiledTls> {
  const material: CompiledTls['material'] = {
    minVersion: handshake.minVersion ?? block.minVersion,
    ...(handshake.ciphers ? { ciphers: handshake.ciphers } : {}),
  };
  let trustedBy = 'the system CAs';
  let caPath: string | undefined;
  if (block.ca !== undefined) {
    caPath = resolvePath(context.configDir, block.ca);
    const pem = await readPem('ca', caPath);
    // Node's `ca` replaces its trust store: "add" hands it the system roots as well.
    material.ca = block.caRoots === 'replace' ? pem : [...rootCertificates, pem];
    trustedBy =
      block.caRoots === 'replace' ? `the CAs in ${caPath}` : `the system CAs and the CAs in ${caPath}`;
  }
  let certPath: string | undefined;
  if (block.cert !== undefined && block.key !== undefined) {
    certPath = resolvePath(context.configDir, block.cert);
    material.cert = await readPem('cert', certPath);
    material.key =
      secretRefsIn(block.key).length > 0
        ? context.secrets.interpolate(block.key)
        : await readPem('key', resolvePath(context.configDir, block.key));
  }
  let secureContext: SecureContext;
  try {
    secureContext = createSecureContext(material);
  } catch (error) {
    // A file that reads but does not parse (not PEM, a key that does not match) is as much
    // the operator's mistake as a missing one.
    const field = certPath ? 'cert' : 'ca';
    throw new TlsFileError(field, certPath ?? caPath ?? '(tls block)', (error as Error).message);
  }
  return { material, secureContext, trustedBy };
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
