import http, { type IncomingHttpHeaders } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { TlsSessionFacts } from '../../assertions/certificate-checks.ts';
import { ProbeError } from '../errors/probe-error.ts';
import { classifyNetworkError, timeoutError } from '../network-error.ts';
import {
  type HttpConnection,
  type HttpConnectionOptions,
  openHttpConnection,
} from './open-http-connection.ts';

/** Bodies are read up to this size for assertions; the rest is drained and counted. */
const BODY_READ_LIMIT = 10 * 1024 * 1024;

/** Headers HTTP/2 forbids (RFC 9113 8.2.2); `host` becomes `:authority`. */
const CONNECTION_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
]);

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** One answer, read whole (up to BODY_READ_LIMIT). */
export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  bodyBytes: number;
  /** `1.1` or `2.0`. */
  httpVersion: string;
  /** The handshake of an https exchange, as seen. */
  tls?: TlsSessionFacts;
}

/**
 * One request on a fresh connection (reused sockets would hide dns/connect/tls time), over
 * HTTP/2 when the server chose it by ALPN, else HTTP/1.1. Phases: those of
 * `openHttpConnection`, then firstByte and download. Rejects with a ProbeError, a timeout
 * naming the phase that was running when the signal fired.
 */
export async function httpExchange(
  request: HttpRequest,
  options: HttpConnectionOptions,
): Promise<HttpAnswer> {
  const connection = await openHttpConnection(options);
  const { clock, signal, timeoutMs } = options;
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    let destroy: (error: Error) => void = (error) => connection.socket.destroy(error);
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      connection.socket.destroy();
      reject(
        error instanceof ProbeError
          ? error
          : new ProbeError(classifyNetworkError(error, clock.current, connection.target)),
      );
    };
    const onAbort = () => {
      const error = new ProbeError(timeoutError(clock.current, connection.target, timeoutMs));
      destroy(error);
      fail(error);
    };
    const answer = (status: number, headers: IncomingHttpHeaders, httpVersion: string, stream: Readable) => {
      clock.enter('download');
      const chunks: Buffer[] = [];
      let kept = 0;
      let bodyBytes = 0;
      stream.on('data', (chunk: Buffer) => {
        bodyBytes += chunk.length;
        if (kept < BODY_READ_LIMIT) {
          chunks.push(chunk);
          kept += chunk.length;
        }
      });
      stream.on('end', () => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve({
          status,
          headers,
          body: request.method === 'HEAD' ? '' : Buffer.concat(chunks).toString('utf8'),
          bodyBytes,
          httpVersion,
          tls: connection.tls,
        });
        connection.socket.destroy();
      });
      stream.on('error', fail);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (connection.protocol === 'h2') destroy = sendHttp2(request, options.url, connection, answer, fail);
    else destroy = sendHttp1(request, options.url, connection, answer, fail);
    if (signal.aborted) onAbort();
  });
}

type OnAnswer = (status: number, headers: IncomingHttpHeaders, httpVersion: string, body: Readable) => void;

/** Sends `request` on the connection in one protocol; returns how to tear the exchange down. */
type SendRequest = (
  request: HttpRequest,
  url: URL,
  connection: HttpConnection,
  onAnswer: OnAnswer,
  onError: (error: Error) => void,
) => (error: Error) => void;

/** HTTP/1.1 on the connected socket. */
const sendHttp1: SendRequest = (request, url, connection, onAnswer, onError) => {
  const outgoing = (url.protocol === 'https:' ? https : http).request(url, {
    method: request.method,
    headers:
      request.body === undefined
        ? request.headers
        : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
    // The socket is ours, already dialed (and handshaken): no agent, no lookup of Node's.
    createConnection: () => connection.socket,
  });
  outgoing.on('response', (response) =>
    onAnswer(response.statusCode ?? 0, response.headers, response.httpVersion, response),
  );
  outgoing.on('error', onError);
  outgoing.end(request.body);
  return (error) => outgoing.destroy(error);
};

/** HTTP/2 on the TLS socket whose ALPN chose h2. */
const sendHttp2: SendRequest = (request, url, connection, onAnswer, onError) => {
  const session = http2.connect(url.origin, { createConnection: () => connection.socket });
  session.on('error', onError);
  const headers: http2.OutgoingHttpHeaders = {
    ':method': request.method,
    ':path': `${url.pathname}${url.search}`,
  };
  for (const [name, value] of Object.entries(request.headers)) {
    if (name === 'host') headers[':authority'] = value;
    else if (!CONNECTION_HEADERS.has(name)) headers[name] = value;
  }
  if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
  const stream = session.request(headers, { endStream: request.body === undefined });
  stream.on('response', (received) => {
    const plain: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(received)) if (!name.startsWith(':')) plain[name] = value;
    onAnswer(Number(received[':status']) || 0, plain, '2.0', stream);
  });
  stream.on('error', onError);
  stream.on('close', () => {
    // Reset or closed before its end (a no-op once the answer was read).
    onError(new Error('socket hang up'));
    session.close();
  });
  if (request.body !== undefined) stream.end(request.body);
  return (error) => session.destroy(error);
};
