import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { z } from 'zod';
import {
  type CertificateFacts,
  judgeExpiry,
  observeTlsSession,
  type TlsSessionFacts,
} from '../assertions/certificate-checks.ts';
import {
  describeAssertionFailure,
  evaluateHttpExpectations,
  httpExpectationsSchema,
} from '../assertions/http-expectations.ts';
import { authSettings } from '../config/auth-settings.ts';
import { secretRefsIn } from '../config/secret-resolver.ts';
import { DEFAULT_TLS_SETTINGS, tlsSettingsSchema } from '../config/tls-settings.ts';
import { httpUrl, strictObject } from '../config/zod-helpers.ts';
import type { Peer, RunError } from '../results/run-result.ts';
import { tlsConnection, tlsFileErrorOutcome } from './certificate-options.ts';
import { checkBaseShape } from './check-base.ts';
import { classifyNetworkError, timeoutError } from './network-error.ts';
import { PhaseClock } from './phase-clock.ts';
import type { Probe, ProbeContext } from './probe.ts';
import { tokensInBody, tokensInHeader, tokensInUrl } from './received-tokens.ts';
import { addPeer, formatTarget, ipVersion } from './remote-endpoint.ts';
import { TlsFileError } from './tls-file-error.ts';

/** Bodies are read up to this size for assertions; the rest is drained and counted. */
const BODY_READ_LIMIT = 10 * 1024 * 1024;

/** The `http:` block: the request and what counts as a good answer. */
export const httpSettingsSchema = strictObject(
  {
    url: httpUrl().describe(
      'The http:// or https:// URL to request (https speaks TLS, set by the `tls` block). Required.',
    ),
    method: z
      .enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
      .default('GET')
      .describe('Request method. Default `GET`.'),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .describe('Request headers; values may embed secret references (`Bearer ${env:TOKEN}`). Default none.'),
    body: z.string().optional().describe('Request body. Default none.'),
    followRedirects: z
      .union([z.boolean(), z.number().int().min(0).max(30)])
      .default(true)
      .describe(
        '`true`: follow up to 10 redirects; a number: up to that many; `false`: a redirect is the answer. Default true.',
      ),
    forwardCredentialsOnRedirect: z
      .boolean()
      .default(false)
      .describe(
        "Send Authorization, Cookie, secret-bearing headers and headers named as credentials to a redirect that leaves the URL's origin, and follow a 307/308 there that would resend a body holding a secret. Default false, as in curl and Go.",
      ),
    ipVersion: ipVersion().describe(
      'Address family to connect over: `any` (the resolver chooses), `4` or `6`. Default `any`.',
    ),
    expect: httpExpectationsSchema.default({}).describe('What counts as a good answer. Default: any 2xx.'),
  },
  { what: 'the http settings, such as { url: "https://shop.example/health" }' },
).describe('The request and what counts as a good answer.');

export const httpCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('http').describe('The protocol; its settings are in the `http` block.'),
  http: httpSettingsSchema,
  tls: tlsSettingsSchema
    .optional()
    .describe('How https is spoken (used on every https hop). Default: system CAs, verified.'),
  auth: authSettings({ kind: 'http', bearer: true })
    .optional()
    .describe('`{ username, password }` (Basic) or `{ bearer }`, secrets by reference. Default none.'),
});
export type HttpCheck = z.output<typeof httpCheckSchema>;

interface HopResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  bodyBytes: number;
  httpVersion: string;
  /** The handshake of an https hop, as seen. */
  tls?: TlsSessionFacts;
}

class HopFailure extends Error {
  constructor(
    readonly runError: RunError,
    /** The certificate the server showed before the handshake was refused, for `details`. */
    readonly certificate?: CertificateFacts,
  ) {
    super(runError.message);
  }
}

export const httpProbe: Probe<HttpCheck> = {
  async run(check, context) {
    const clock = new PhaseClock();
    const peers: Peer[] = [];
    const settings = check.http;
    const maxRedirects =
      settings.followRedirects === true
        ? 10
        : settings.followRedirects === false
          ? 0
          : settings.followRedirects;
    let requestOptions: SharedRequestOptions;
    try {
      requestOptions = await buildRequestOptions(check, context);
    } catch (error) {
      if (error instanceof TlsFileError) return tlsFileErrorOutcome(error, { url: settings.url });
      throw error;
    }
    const credentialFree = withoutHeaders(requestOptions, requestOptions.credentialHeaders);
    const origin = new URL(settings.url).origin;
    let url = new URL(settings.url);
    let method = settings.method;
    let body = settings.body;
    let hop: HopResult;
    let redirects = 0;
    try {
      for (;;) {
        const sameOrigin = url.origin === origin || settings.forwardCredentialsOnRedirect;
        hop = await requestOnce(
          url,
          method,
          body,
          sameOrigin ? requestOptions : credentialFree,
          context,
          clock,
          peers,
        );
        noteReceivedTokens(hop, url, context);
        const location = hop.headers.location;
        if (hop.status >= 300 && hop.status < 400 && location && redirects < maxRedirects) {
          redirects++;
          const next = new URL(location, url);
          if (hop.status === 303 || ((hop.status === 301 || hop.status === 302) && method === 'POST')) {
            method = 'GET';
            body = undefined;
          }
          const leavesOrigin = next.origin !== origin && !settings.forwardCredentialsOnRedirect;
          if (leavesOrigin && body !== undefined && secretRefsIn(body).length > 0)
            throw new CrossOriginBodyRedirect(hop.status, url, next);
          url = next;
          continue;
        }
        break;
      }
    } catch (error) {
      const runError =
        error instanceof HopFailure
          ? error.runError
          : error instanceof CrossOriginBodyRedirect
            ? { class: 'protocol' as const, message: error.message }
            : classifyNetworkError(error, clock.current, url.host);
      const certificate = error instanceof HopFailure ? error.certificate : undefined;
      return {
        status: 'fail',
        phases: clock.finish(),
        peers,
        error: runError,
        details: { url: url.href, redirects, ...(certificate ? { certificate } : {}) },
      };
    }
    const phases = clock.finish();
    const assertions = evaluateHttpExpectations(settings.expect, {
      status: hop.status,
      headers: hop.headers,
      body: hop.body,
      bodyBytes: hop.bodyBytes,
      totalMs: phases.total,
    });
    const certificate = hop.tls?.certificate;
    // Expiry limits are judged like every other kind's, on the certificate of the answer.
    const expiry = certificate ? judgeExpiry(certificate, check.tls ?? DEFAULT_TLS_SETTINGS) : undefined;
    if (expiry) assertions.push(...expiry.assertions);
    const details = {
      url: url.href,
      statusCode: hop.status,
      httpVersion: hop.httpVersion,
      redirects,
      bodyBytes: hop.bodyBytes,
      ...(hop.tls ? { tls: { protocol: hop.tls.protocol, cipher: hop.tls.cipher } } : {}),
      ...(certificate ? { certificate } : {}),
    };
    const failed = assertions.find((result) => !result.ok && !result.degraded);
    if (failed) {
      const error: RunError =
        expiry?.error && expiry.assertions.includes(failed)
          ? expiry.error
          : { class: 'assertion', message: `${method} ${url.href}: ${describeAssertionFailure(failed)}` };
      return { status: 'fail', phases, peers, error, assertions, details };
    }
    const degraded = assertions.some((result) => result.degraded);
    return { status: degraded ? 'degraded' : 'pass', phases, peers, assertions, details };
  },
};

/** Header names that carry credentials by convention, whatever their value. */
const CREDENTIAL_HEADER_NAME = /auth|token|api[-_]?key|secret|session|passw|signature|cookie/i;

/**
 * A 307/308 redirect resends the body. To another origin that is refused when the body holds
 * a secret (a login form, a token request), unless the check opts in: the credentials would
 * go to a server the check was never pointed at.
 */
class CrossOriginBodyRedirect extends Error {
  constructor(
    readonly status: number,
    from: URL,
    to: URL,
  ) {
    super(
      `${status} redirect from ${from.origin} to ${to.origin} would resend the request body, which holds secrets: not followed (set forwardCredentialsOnRedirect: true to allow it)`,
    );
  }
}

interface SharedRequestOptions {
  headers: Record<string, string>;
  /** Headers that carry credentials: never sent to another origin unless the check opts in. */
  credentialHeaders: Set<string>;
  /** From the `tls` block; `servername` only when configured (else each hop's host). */
  tls: ConnectionOptions;
  family?: 4 | 6;
  method: string;
}

async function buildRequestOptions(check: HttpCheck, context: ProbeContext): Promise<SharedRequestOptions> {
  const headers: Record<string, string> = { 'user-agent': 'pathwatch/0.1 (synthetic monitoring)' };
  const credentialHeaders = new Set(['authorization', 'proxy-authorization', 'cookie']);
  for (const [name, value] of Object.entries(check.http.headers)) {
    headers[name.toLowerCase()] = context.secrets.interpolate(value);
    // A header is a credential when it holds a secret, or when its name says it is one
    // (`x-api-key: abc` written inline is still a key another origin must not get).
    if (secretRefsIn(value).length > 0 || CREDENTIAL_HEADER_NAME.test(name))
      credentialHeaders.add(name.toLowerCase());
  }
  if (check.auth?.bearer !== undefined) {
    headers.authorization = `Bearer ${context.secrets.interpolate(check.auth.bearer)}`;
  } else if (check.auth?.username !== undefined && check.auth.password !== undefined) {
    const password = context.secrets.interpolate(check.auth.password);
    const userPass = `${check.auth.username}:${password}`;
    // The pair is a secret of its own: its base64 is what the header carries.
    context.secrets.maskAlso(userPass);
    headers.authorization = `Basic ${Buffer.from(userPass).toString('base64')}`;
  }
  const url = new URL(check.http.url);
  const { options } = await tlsConnection(check.tls, url.hostname.replace(/^\[|\]$/g, ''), context);
  // Without a configured serverName each hop (a redirect to another host) names its own.
  const { servername: _fromFirstHost, ...tls } = options;
  return {
    headers,
    credentialHeaders,
    tls: check.tls?.serverName ? { ...tls, servername: check.tls.serverName } : tls,
    family: check.http.ipVersion === 'any' ? undefined : check.http.ipVersion,
    method: check.http.method,
  };
}

function withoutHeaders(options: SharedRequestOptions, names: Set<string>): SharedRequestOptions {
  return {
    ...options,
    headers: Object.fromEntries(Object.entries(options.headers).filter(([name]) => !names.has(name))),
  };
}

/** A session cookie or token in an answer is masked in this run's result like a secret. */
function noteReceivedTokens(hop: HopResult, url: URL, context: ProbeContext): void {
  const tokens = tokensInUrl(url.href);
  for (const [name, value] of Object.entries(hop.headers)) {
    for (const one of Array.isArray(value) ? value : [value ?? '']) tokensInHeader(name, one, tokens);
  }
  if (typeof hop.headers.location === 'string') tokensInUrl(hop.headers.location, tokens);
  tokensInBody(hop.body, tokens);
  for (const token of tokens) context.secrets.maskAlso(token);
}

function requestOnce(
  url: URL,
  method: string,
  body: string | undefined,
  options: SharedRequestOptions,
  context: ProbeContext,
  clock: PhaseClock,
  peers: Peer[],
): Promise<HopResult> {
  const isHttps = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || (isHttps ? 443 : 80);
  let target = isIP(hostname) ? formatTarget(hostname, port) : `${hostname}:${port}`;
  if (isIP(hostname)) addPeer(peers, hostname, port);
  clock.enter(isIP(hostname) ? 'connect' : 'dns');
  return new Promise<HopResult>((resolve, reject) => {
    let tlsFacts: TlsSessionFacts | undefined;
    let refusedCertificate: CertificateFacts | undefined;
    const request = (isHttps ? https : http).request(url, {
      method,
      headers:
        body === undefined
          ? options.headers
          : { ...options.headers, 'content-length': Buffer.byteLength(body) },
      agent: false, // a fresh connection every run: reused sockets would hide dns/connect/tls time
      ...(isHttps ? options.tls : {}),
      family: options.family,
    });
    const onAbort = () =>
      request.destroy(new HopFailure(timeoutError(clock.current, target, context.timeoutMs)));
    if (context.signal.aborted) onAbort();
    context.signal.addEventListener('abort', onAbort, { once: true });
    const settle = () => context.signal.removeEventListener('abort', onAbort);

    request.on('socket', (socket: Socket) => {
      socket.on('lookup', (error, address) => {
        if (error || typeof address !== 'string') return;
        target = formatTarget(address, port);
        addPeer(peers, address, port);
        clock.enter('connect');
      });
      socket.on('connect', () => {
        if (socket.remoteAddress) {
          target = formatTarget(socket.remoteAddress, port);
          addPeer(peers, socket.remoteAddress, socket.remotePort ?? port, socket.localPort);
        }
        clock.enter(isHttps ? 'tls' : 'firstByte');
      });
      socket.on('secureConnect', () => {
        tlsFacts = observeTlsSession(socket as TLSSocket).facts;
        clock.enter('firstByte');
      });
      if (isHttps)
        keepRefusedCertificate(socket as TLSSocket, (facts) => {
          refusedCertificate = facts;
        });
    });
    request.on('response', (response) => {
      clock.enter('download');
      const chunks: Buffer[] = [];
      let kept = 0;
      let bodyBytes = 0;
      response.on('data', (chunk: Buffer) => {
        bodyBytes += chunk.length;
        if (kept < BODY_READ_LIMIT) {
          chunks.push(chunk);
          kept += chunk.length;
        }
      });
      response.on('end', () => {
        settle();
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: options.method === 'HEAD' ? '' : Buffer.concat(chunks).toString('utf8'),
          bodyBytes,
          httpVersion: response.httpVersion,
          tls: tlsFacts,
        });
      });
      response.on('error', (error) => {
        settle();
        reject(
          error instanceof HopFailure
            ? error
            : new HopFailure(classifyNetworkError(error, clock.current, target)),
        );
      });
    });
    request.on('error', (error) => {
      settle();
      reject(
        error instanceof HopFailure
          ? error
          : new HopFailure(classifyNetworkError(error, clock.current, target), refusedCertificate),
      );
    });
    request.end(body);
  });
}

/**
 * Node refuses an untrusted certificate by destroying the socket, after which the
 * certificate can no longer be read; the details of what was refused are what the operator
 * needs, so they are read at that moment (the verification itself stays Node's).
 */
function keepRefusedCertificate(socket: TLSSocket, keep: (facts: CertificateFacts) => void): void {
  const destroy = socket.destroy.bind(socket);
  socket.destroy = (error?: Error) => {
    if (error && !socket.destroyed) {
      const certificate = observeTlsSession(socket).facts.certificate;
      if (certificate) keep(certificate);
    }
    return destroy(error);
  };
}
