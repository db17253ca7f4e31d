import http from 'node:http';
import type { ConnectionOptions } from 'node:tls';
import { z } from 'zod';
import { judgeExpiry } from '../assertions/certificate-checks.ts';
import {
  describeAssertionFailure,
  evaluateHttpExpectations,
  httpExpectationsSchema,
} from '../assertions/http-expectations.ts';
import { authSettings } from '../config/auth-settings.ts';
import { secretRefsIn } from '../config/secret-resolver.ts';
import { DEFAULT_TLS_SETTINGS, tlsSettingsSchema } from '../config/tls-settings.ts';
import { httpUrl, strictObject } from '../config/zod-helpers.ts';
import { type CodedRunError, errorOf } from '../results/error-codes.ts';
import type { AssertionResult, Peer } from '../results/run-result.ts';
import { tlsConnection, tlsFileErrorOutcome } from './certificate-options.ts';
import { checkSchemaOf } from './check-base.ts';
import { ProbeError } from './errors/probe-error.ts';
import { TlsFileError } from './errors/tls-file-error.ts';
import { type HttpAnswer, httpExchange } from './http/http-exchange.ts';
import { classifyNetworkError } from './network-error.ts';
import { PhaseClock } from './phase-clock.ts';
import type { Probe, ProbeContext } from './probe.ts';
import { tokensInBody, tokensInHeader, tokensInUrl } from './received-tokens.ts';
import { ipVersion } from './remote-endpoint.ts';

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
    http2: z
      .boolean()
      .default(true)
      .describe(
        'Offer HTTP/2 on https (ALPN `h2`, then `http/1.1`): the server chooses, and `details.httpVersion` says which was spoken. `false` offers only HTTP/1.1. Plain http is always HTTP/1.1. Default true.',
      ),
    expect: httpExpectationsSchema.default({}).describe('What counts as a good answer. Default: any 2xx.'),
  },
  { what: 'the http settings, such as { url: "https://shop.example/health" }' },
).describe('The request and what counts as a good answer.');

export const httpCheckSchema = checkSchemaOf('http', {
  settings: httpSettingsSchema,
  tls: tlsSettingsSchema
    .optional()
    .describe('How https is spoken (used on every https hop). Default: system CAs, verified.'),
  auth: authSettings({ kind: 'http', bearer: true })
    .optional()
    .describe('`{ username, password }` (Basic) or `{ bearer }`, secrets by reference. Default none.'),
});
export type HttpCheck = z.output<typeof httpCheckSchema>;

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
    let hop: HttpAnswer;
    let redirects = 0;
    /** The last hop's request headers that carry credentials, to word a 401. */
    let sentCredentials: string[] = [];
    /** Every hop so far (`GET http://…/a` with its status), to name a loop or a long chain. */
    const chain = new RedirectChain();
    try {
      for (;;) {
        const sameOrigin = url.origin === origin || settings.forwardCredentialsOnRedirect;
        const hopOptions = sameOrigin ? requestOptions : credentialFree;
        sentCredentials = credentialsIn(hopOptions);
        hop = await httpExchange(
          { method, headers: hopOptions.headers, body },
          {
            url,
            family: requestOptions.family,
            tls: requestOptions.tls,
            offerHttp2: settings.http2,
            signal: context.signal,
            timeoutMs: context.timeoutMs,
            deadline: context.deadline,
            clock,
            peers,
          },
        );
        noteReceivedTokens(hop, url, context);
        const location = hop.headers.location;
        if (hop.status >= 300 && hop.status < 400 && location && maxRedirects > 0) {
          chain.add(method, url, hop.status);
          const next = new URL(location, url);
          if (hop.status === 303 || ((hop.status === 301 || hop.status === 302) && method === 'POST')) {
            method = 'GET';
            body = undefined;
          }
          // A URL asked for twice (same method) answers the same way again: following on only
          // burns the limit and hides the loop behind "expected 2xx, got 302".
          if (chain.seen(method, next))
            throw ProbeError.of('REDIRECT_LOOP', `redirect loop: ${chain.describe(next)}`);
          if (redirects >= maxRedirects)
            throw ProbeError.of(
              'TOO_MANY_REDIRECTS',
              `more than ${maxRedirects} redirects (followRedirects): ${chain.describe(next)}`,
            );
          redirects++;
          // A 307/308 to another origin resends the body: refused when it holds a secret (a
          // login form, a token request) unless the check opts in, since the credentials would
          // go to a server the check was never pointed at.
          const leavesOrigin = next.origin !== origin && !settings.forwardCredentialsOnRedirect;
          if (leavesOrigin && body !== undefined && secretRefsIn(body).length > 0)
            throw ProbeError.of(
              'REDIRECT_REFUSED',
              `${hop.status} redirect from ${url.origin} to ${next.origin} would resend the request body, which holds secrets: not followed (set forwardCredentialsOnRedirect: true to allow it)`,
            );
          url = next;
          continue;
        }
        break;
      }
    } catch (error) {
      const runError =
        error instanceof ProbeError ? error.runError : classifyNetworkError(error, clock.current, url.host);
      const certificate = error instanceof ProbeError ? error.certificate : undefined;
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
      const error: CodedRunError =
        expiry?.error && expiry.assertions.includes(failed)
          ? expiry.error
          : answerError(failed, hop.status, `${method} ${url.href}`, {
              sent: sentCredentials,
              dropped: sentCredentials.length === 0 && credentialsIn(requestOptions).length > 0,
            });
      return { status: 'fail', phases, peers, error, assertions, details };
    }
    const degraded = assertions.some((result) => result.degraded);
    return { status: degraded ? 'degraded' : 'pass', phases, peers, assertions, details };
  },
};

/** Header names that carry credentials by convention, whatever their value. */
const CREDENTIAL_HEADER_NAME = /auth|token|api[-_]?key|secret|session|passw|signature|cookie/i;

/**
 * The error of an answer that failed its expectations. A 401/407 says whether credentials
 * went with the request: sent and refused is a rejected login (class `auth`), none sent is
 * the check's own gap (set `auth`), which the bare status could not tell apart.
 */
function answerError(
  failed: AssertionResult,
  status: number,
  request: string,
  credentials: { sent: string[]; dropped: boolean },
): CodedRunError {
  if (failed.name.startsWith('status ') && (status === 401 || status === 407)) {
    const reason = `${status} ${http.STATUS_CODES[status]}`;
    if (credentials.sent.length > 0)
      return errorOf(
        'AUTH_REJECTED',
        `${request}: ${reason}: credentials were sent (${credentials.sent.join(', ')}) and refused`,
      );
    const why = credentials.dropped
      ? ' (the check has them, but they are not sent to another origin: set forwardCredentialsOnRedirect)'
      : '; set auth';
    return errorOf('HTTP_STATUS', `${request}: ${reason}: no credentials were sent${why}`);
  }
  const code = failed.name.startsWith('status ')
    ? 'HTTP_STATUS'
    : failed.name.startsWith('response time')
      ? 'SLOW_RESPONSE'
      : 'ASSERTION';
  return errorOf(code, `${request}: ${describeAssertionFailure(failed)}`);
}

/** What credentials a request carries, as a 401's message names them: `basic`, `bearer`, `x-api-key`. */
function credentialsIn(options: SharedRequestOptions): string[] {
  return Object.entries(options.headers)
    .filter(([name]) => options.credentialHeaders.has(name))
    .map(([name, value]) => {
      // The scheme only (`Basic …` → basic); a bare value names its header, never itself.
      const scheme = /^([A-Za-z][\w-]*) \S/.exec(value)?.[1];
      return (name === 'authorization' || name === 'proxy-authorization') && scheme
        ? scheme.toLowerCase()
        : name;
    });
}

/** The redirects followed so far (method, URL, status), to tell a loop and to show the chain. */
class RedirectChain {
  private readonly hops: Array<{ key: string; href: string; status: number }> = [];

  add(method: string, url: URL, status: number): void {
    this.hops.push({ key: `${method} ${url.href}`, href: url.href, status });
  }

  seen(method: string, url: URL): boolean {
    return this.hops.some((hop) => hop.key === `${method} ${url.href}`);
  }

  /** `http://a/x (302) → http://a/y (302) → http://a/x`, the middle of a long chain cut. */
  describe(next: URL): string {
    const steps = this.hops.map((hop) => `${hop.href} (${hop.status})`);
    const shown =
      steps.length > 6 ? [...steps.slice(0, 3), `… ${steps.length - 5} more …`, ...steps.slice(-2)] : steps;
    return [...shown, next.href].join(' → ');
  }
}

interface SharedRequestOptions {
  headers: Record<string, string>;
  /** Headers that carry credentials: never sent to another origin unless the check opts in. */
  credentialHeaders: Set<string>;
  /** From the `tls` block; `servername` only when configured (else each hop's host). */
  tls: ConnectionOptions;
  family?: 4 | 6;
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
  };
}

function withoutHeaders(options: SharedRequestOptions, names: Set<string>): SharedRequestOptions {
  return {
    ...options,
    headers: Object.fromEntries(Object.entries(options.headers).filter(([name]) => !names.has(name))),
  };
}

/** A session cookie or token in an answer is masked in this run's result like a secret. */
function noteReceivedTokens(hop: HttpAnswer, url: URL, context: ProbeContext): void {
  const tokens = tokensInUrl(url.href);
  for (const [name, value] of Object.entries(hop.headers)) {
    for (const one of Array.isArray(value) ? value : [value ?? '']) tokensInHeader(name, one, tokens);
  }
  if (typeof hop.headers.location === 'string') tokensInUrl(hop.headers.location, tokens);
  tokensInBody(hop.body, tokens);
  for (const token of tokens) context.secrets.maskAlso(token);
}
