import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { z } from 'zod';
import {
  describeAssertionFailure,
  evaluateHttpExpectations,
  httpExpectationsSchema,
} from '../assertions/http-expectations.ts';
import { secretRef, secretRefsIn } from '../config/secret-resolver.ts';
import { caFile, httpUrl, strictObject } from '../config/zod-helpers.ts';
import { checkBaseShape } from './check-base.ts';
import { classifyNetworkError, timeoutError } from './network-error.ts';
import { PhaseClock } from './phase-clock.ts';
import type { Probe, ProbeContext } from './probe.ts';
import { tokensInBody, tokensInHeader, tokensInUrl } from './received-tokens.ts';
import { addPeer, formatTarget } from './remote-endpoint.ts';
import type { Peer, RunError } from './run-result.ts';

/** Bodies are read up to this size for assertions; the rest is drained and counted. */
const BODY_READ_LIMIT = 10 * 1024 * 1024;

export const httpCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('http'),
  url: httpUrl(),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
  /** Header values may embed secret references: `Bearer ${env:TOKEN}`. */
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  auth: z
    .union([
      strictObject({ basic: strictObject({ username: z.string(), password: secretRef() }) }),
      strictObject({ bearer: secretRef() }),
    ])
    .optional(),
  /** true: follow up to 10; a number: follow up to that many; false: a redirect is the answer. */
  followRedirects: z.union([z.boolean(), z.number().int().min(0).max(30)]).default(true),
  /**
   * Send Authorization, Proxy-Authorization, Cookie and every header holding a secret
   * reference on to a redirect that leaves the URL's origin (scheme, host, port). Off by
   * default, as in curl and Go: a redirect must not hand the credentials to another server.
   */
  forwardCredentialsOnRedirect: z.boolean().default(false),
  tls: strictObject({
    /** Verify the chain and host name (default true). */
    verify: z.boolean().default(true),
    /** PEM file of extra trusted CAs, relative to the config file. */
    ca: caFile().optional(),
    /** SNI / verification name when it differs from the URL host. */
    serverName: z.string().optional(),
  }).default({ verify: true }),
  /** Address family to connect over; `any` lets the resolver choose. */
  ipVersion: z.union([z.literal('any'), z.literal(4), z.literal(6)]).default('any'),
  expect: httpExpectationsSchema.default({}),
});
export type HttpCheck = z.output<typeof httpCheckSchema>;

interface HopResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  bodyBytes: number;
  httpVersion: string;
  certValidTo?: Date;
  certificate?: { subject: string; issuer: string; validTo: string };
}

class HopFailure extends Error {
  constructor(readonly runError: RunError) {
    super(runError.message);
  }
}

export const httpProbe: Probe<HttpCheck> = {
  async run(check, context) {
    const clock = new PhaseClock();
    const peers: Peer[] = [];
    const maxRedirects =
      check.followRedirects === true ? 10 : check.followRedirects === false ? 0 : check.followRedirects;
    const requestOptions = await buildRequestOptions(check, context);
    const credentialFree = withoutHeaders(requestOptions, requestOptions.credentialHeaders);
    const origin = new URL(check.url).origin;
    let url = new URL(check.url);
    let method = check.method;
    let body = check.body;
    let hop: HopResult;
    let redirects = 0;
    try {
      for (;;) {
        const sameOrigin = url.origin === origin || check.forwardCredentialsOnRedirect;
        hop = await requestOnce(
          url,
          method,
          body,
          sameOrigin ? requestOptions : credentialFree,
          check,
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
          const leavesOrigin = next.origin !== origin && !check.forwardCredentialsOnRedirect;
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
      return {
        status: 'fail',
        phases: clock.finish(),
        peers,
        error: runError,
        details: { url: url.href, redirects },
      };
    }
    const phases = clock.finish();
    const assertions = evaluateHttpExpectations(check.expect, {
      status: hop.status,
      headers: hop.headers,
      body: hop.body,
      bodyBytes: hop.bodyBytes,
      totalMs: phases.total,
      certValidTo: hop.certValidTo,
    });
    const details = {
      url: url.href,
      statusCode: hop.status,
      httpVersion: hop.httpVersion,
      redirects,
      bodyBytes: hop.bodyBytes,
      ...(hop.certificate ? { certificate: hop.certificate } : {}),
    };
    const failed = assertions.find((result) => !result.ok && !result.degraded);
    if (failed) {
      const error: RunError = {
        class: 'assertion',
        message: `${method} ${url.href}: ${describeAssertionFailure(failed)}`,
      };
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
  rejectUnauthorized: boolean;
  ca?: Buffer;
  servername?: string;
  family?: 4 | 6;
}

async function buildRequestOptions(check: HttpCheck, context: ProbeContext): Promise<SharedRequestOptions> {
  const headers: Record<string, string> = { 'user-agent': 'pathwatch/0.1 (synthetic monitoring)' };
  const credentialHeaders = new Set(['authorization', 'proxy-authorization', 'cookie']);
  for (const [name, value] of Object.entries(check.headers)) {
    headers[name.toLowerCase()] = context.secrets.interpolate(value);
    // A header is a credential when it holds a secret, or when its name says it is one
    // (`x-api-key: abc` written inline is still a key another origin must not get).
    if (secretRefsIn(value).length > 0 || CREDENTIAL_HEADER_NAME.test(name))
      credentialHeaders.add(name.toLowerCase());
  }
  if (check.auth && 'basic' in check.auth) {
    const password = context.secrets.interpolate(check.auth.basic.password);
    const userPass = `${check.auth.basic.username}:${password}`;
    // The pair is a secret of its own: its base64 is what the header carries.
    context.secrets.maskAlso(userPass);
    headers.authorization = `Basic ${Buffer.from(userPass).toString('base64')}`;
  } else if (check.auth && 'bearer' in check.auth) {
    headers.authorization = `Bearer ${context.secrets.interpolate(check.auth.bearer)}`;
  }
  return {
    headers,
    credentialHeaders,
    rejectUnauthorized: check.tls.verify,
    ca: check.tls.ca ? await readFile(resolvePath(context.configDir, check.tls.ca)) : undefined,
    servername: check.tls.serverName,
    family: check.ipVersion === 'any' ? undefined : check.ipVersion,
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
  check: HttpCheck,
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
    let certValidTo: Date | undefined;
    let certificate: HopResult['certificate'];
    const request = (isHttps ? https : http).request(url, {
      method,
      headers:
        body === undefined
          ? options.headers
          : { ...options.headers, 'content-length': Buffer.byteLength(body) },
      agent: false, // a fresh connection every run: reused sockets would hide dns/connect/tls time
      rejectUnauthorized: options.rejectUnauthorized,
      ca: options.ca,
      servername: options.servername,
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
        const peerCertificate = (socket as TLSSocket).getPeerCertificate();
        if (peerCertificate?.valid_to) {
          certValidTo = new Date(peerCertificate.valid_to);
          certificate = {
            subject: String(peerCertificate.subject?.CN ?? ''),
            issuer: String(peerCertificate.issuer?.CN ?? peerCertificate.issuer?.O ?? ''),
            validTo: certValidTo.toISOString(),
          };
        }
        clock.enter('firstByte');
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
          body: check.method === 'HEAD' ? '' : Buffer.concat(chunks).toString('utf8'),
          bodyBytes,
          httpVersion: response.httpVersion,
          certValidTo,
          certificate,
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
          : new HopFailure(classifyNetworkError(error, clock.current, target)),
      );
    });
    request.end(body);
  });
}
