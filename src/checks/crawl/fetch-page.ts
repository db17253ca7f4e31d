import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { CodedRunError } from '../../results/error-codes.ts';
import { ProbeError } from '../errors/probe-error.ts';
import { classifyNetworkError, timeoutError } from '../network-error.ts';
import { formatTarget } from '../remote-endpoint.ts';
import type { PageDial } from './page-agent.ts';

/** A page body is read up to this size for links and keywords; the rest is not downloaded. */
const BODY_READ_LIMIT = 4 * 1024 * 1024;
/**
 * A body nobody reads (an asset, an error page) is drained up to this size so the
 * keep-alive socket can be reused; past it the socket is dropped instead, because
 * downloading a linked 4 GB ISO to learn its status would be absurd.
 */
const DRAIN_LIMIT = 1024 * 1024;

/** Takes a body chunk by chunk as it arrives, up to BODY_READ_LIMIT bytes. */
export interface BodySink {
  write(chunk: Buffer): void;
  /** The body ended, or reached the read limit. */
  end(): void;
}

export interface PageRequest<Body extends BodySink = BodySink> {
  url: URL;
  /** Shared keep-alive agent (pageAgent); its maxSockets is the crawl's concurrency. */
  agent: http.Agent;
  headers: Record<string, string>;
  /** This page's own limit (`pageTimeout`). */
  timeoutMs: number;
  /** The crawl's deadline: aborting it abandons the page. */
  signal: AbortSignal;
  /**
   * Where to stream the body (HTML to parse, a page a keyword applies to), asked once the
   * status and content type are known; undefined drains and drops it. Asked again on a retry.
   */
  readBody(status: number, contentType: string | undefined): Body | undefined;
  /** Every remote address the request talks to, for the capture slice. */
  onPeer(ip: string, port: number): void;
  /** Phase changes (dns, connect, tls, firstByte, download), for the root page's timings. */
  onPhase?(phase: string): void;
}

export interface PageResponse<Body extends BodySink = BodySink> {
  status?: number;
  location?: string;
  contentType?: string;
  /** The sink `readBody` gave, ended; only when the body was read (to its end or the limit). */
  body?: Body;
  ms: number;
  /** A network error or the page timeout: the page is broken. */
  error?: CodedRunError;
  /** Abandoned at the crawl deadline: neither good nor broken. */
  aborted?: boolean;
  /** The phase that was running when the page ended early. */
  phase?: string;
  /** `host:port` as far as it was known, for messages. */
  target: string;
  /** Sent on a kept-alive socket: a reset may only mean the server had just closed it. */
  reusedSocket: boolean;
}

/** One GET; never rejects: a failing page is a PageResponse with `error`. */
export function fetchPage<Body extends BodySink>(request: PageRequest<Body>): Promise<PageResponse<Body>> {
  const { url, signal } = request;
  const isHttps = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || (isHttps ? 443 : 80);
  const literal = isIP(hostname) !== 0;
  let target = literal ? formatTarget(hostname, port) : `${hostname}:${port}`;
  const startedAt = performance.now();
  let phase = literal ? 'connect' : 'dns';
  const enter = (next: string) => {
    phase = next;
    request.onPhase?.(next);
  };
  request.onPhase?.(phase);
  // Known before connecting, so even a refused or silent connect leaves a flow to capture.
  if (literal) request.onPeer(hostname, port);

  return new Promise<PageResponse<Body>>((resolve) => {
    let settled = false;
    // Ends a dial still running when the page is done with (timed out, abandoned).
    const dialing = new AbortController();
    const pageDial: PageDial = {
      signal: dialing.signal,
      timeoutMs: request.timeoutMs,
      onPhase: enter,
      onPeer: request.onPeer,
    };
    const outgoing = (isHttps ? https : http).request(url, {
      method: 'GET',
      headers: request.headers,
      agent: request.agent,
      // Read by pageAgent's createConnection, which gets these options.
      pageDial,
    } as http.RequestOptions);
    const finish = (response: Omit<PageResponse<Body>, 'ms' | 'target' | 'reusedSocket'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      dialing.abort();
      signal.removeEventListener('abort', onAbort);
      resolve({
        ...response,
        ms: round(performance.now() - startedAt),
        target,
        reusedSocket: outgoing.reusedSocket,
      });
    };
    const fail = (error: CodedRunError) => {
      finish({ error, phase });
      outgoing.destroy();
    };
    const onAbort = () => {
      finish({ aborted: true, phase });
      outgoing.destroy();
    };
    const timer = setTimeout(() => fail(timeoutError(phase, target, request.timeoutMs)), request.timeoutMs);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });

    outgoing.on('socket', (socket: Socket) => {
      if (!socket.connecting) {
        // Dialed by pageAgent (phases and peers already told), or a reused keep-alive socket.
        if (socket.remoteAddress) {
          target = formatTarget(socket.remoteAddress, socket.remotePort ?? port);
          request.onPeer(socket.remoteAddress, socket.remotePort ?? port);
        }
        enter('firstByte');
        return;
      }
      socket.once('lookup', (error, address) => {
        if (error || typeof address !== 'string') return;
        target = formatTarget(address, port);
        enter('connect');
      });
      socket.once('connect', () => {
        if (socket.remoteAddress) {
          target = formatTarget(socket.remoteAddress, port);
          request.onPeer(socket.remoteAddress, socket.remotePort ?? port);
        }
        enter(isHttps ? 'tls' : 'firstByte');
      });
      if (isHttps) socket.once('secureConnect', () => enter('firstByte'));
    });
    outgoing.on('response', (incoming) => {
      enter('download');
      const status = incoming.statusCode ?? 0;
      const contentType = incoming.headers['content-type'];
      const location = incoming.headers.location;
      const body = request.readBody(status, contentType);
      const limit = body ? BODY_READ_LIMIT : DRAIN_LIMIT;
      let bytes = 0;
      const done = () => {
        if (settled) return;
        body?.end();
        finish({ status, contentType, location, body });
      };
      incoming.on('data', (chunk: Buffer) => {
        if (settled) return;
        bytes += chunk.length;
        body?.write(chunk); // parsed as it arrives: the page is never held whole for its links
        if (bytes >= limit) {
          done(); // enough for links and keywords; the rest is not worth the time
          incoming.destroy();
        }
      });
      incoming.on('end', done);
      incoming.on('error', (error) => fail(classifyNetworkError(error, phase, target)));
      incoming.on('aborted', () => fail(classifyNetworkError(new Error('socket hang up'), phase, target)));
    });
    outgoing.on('error', (error) =>
      fail(error instanceof ProbeError ? error.runError : classifyNetworkError(error, phase, target)),
    );
    outgoing.end();
  });
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
