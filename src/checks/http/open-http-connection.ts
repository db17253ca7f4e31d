import { isIP, type Socket } from 'node:net';
import tls, { type ConnectionOptions, type TLSSocket } from 'node:tls';
import {
  type CertificateFacts,
  observeTlsSession,
  type TlsSessionFacts,
} from '../../assertions/certificate-checks.ts';
import type { Peer } from '../../results/run-result.ts';
import { dialTcp } from '../dial/dial-tcp.ts';
import { ProbeError } from '../errors/probe-error.ts';
import { classifyNetworkError, timeoutError } from '../network-error.ts';
import type { PhaseClock } from '../phase-clock.ts';
import { unbracket } from '../remote-endpoint.ts';

/** ALPN offers: HTTP/2 first where allowed, so a server that speaks it picks it. */
const OFFER_H2 = ['h2', 'http/1.1'];
const OFFER_H1 = ['http/1.1'];

export interface HttpConnectionOptions {
  url: URL;
  family?: 4 | 6;
  /** From the `tls` block (`secureContext`, verification, a configured `servername`); https only. */
  tls: ConnectionOptions;
  /** Offer `h2` by ALPN on https. */
  offerHttp2: boolean;
  signal: AbortSignal;
  timeoutMs: number;
  /** Epoch ms at which `signal` fires (each address gets its share). */
  deadline?: number;
  clock: PhaseClock;
  peers: Peer[];
}

/** A connected (and for https, handshaken) socket ready for one HTTP exchange. */
export interface HttpConnection {
  socket: Socket | TLSSocket;
  /** `h2` only when the server chose it by ALPN. */
  protocol: 'h2' | 'http/1.1';
  /** `ip:port` actually connected to, for messages. */
  target: string;
  /** The handshake of an https connection, as seen. */
  tls?: TlsSessionFacts;
}

/**
 * THE connection of an http exchange (the http probe, the crawl): `dialTcp` (phases dns and
 * connect, every address with its share of the deadline, peers), then for https a TLS
 * handshake over that socket (phase tls) offering h2 and http/1.1. A refused certificate is
 * read before Node destroys the socket and carried by the ProbeError.
 */
export async function openHttpConnection(options: HttpConnectionOptions): Promise<HttpConnection> {
  const { url, clock, signal, timeoutMs } = options;
  const isHttps = url.protocol === 'https:';
  const hostname = unbracket(url.hostname);
  const port = Number(url.port) || (isHttps ? 443 : 80);
  const dialed = await dialTcp({
    host: hostname,
    port,
    family: options.family,
    signal,
    timeoutMs,
    deadline: options.deadline,
    clock,
    peers: options.peers,
  });
  if (!isHttps) {
    clock.enter('firstByte');
    return { socket: dialed.socket, protocol: 'http/1.1', target: dialed.target };
  }
  clock.enter('tls');
  return handshake(dialed.socket, hostname, dialed.target, options);
}

function handshake(
  raw: Socket,
  hostname: string,
  target: string,
  options: HttpConnectionOptions,
): Promise<HttpConnection> {
  const { signal, clock, timeoutMs } = options;
  return new Promise<HttpConnection>((resolve, reject) => {
    let refusedCertificate: CertificateFacts | undefined;
    const socket = tls.connect({
      ...options.tls,
      socket: raw,
      // The identity is the URL's host (or the configured serverName), never the address dialed.
      host: hostname,
      servername: options.tls.servername ?? (isIP(hostname) === 0 ? hostname : undefined),
      ALPNProtocols: options.offerHttp2 ? OFFER_H2 : OFFER_H1,
    });
    keepRefusedCertificate(socket, (facts) => {
      refusedCertificate = facts;
    });
    const onAbort = () => socket.destroy(new ProbeError(timeoutError('tls', target, timeoutMs)));
    const onError = (error: Error) => {
      signal.removeEventListener('abort', onAbort);
      raw.destroy();
      reject(
        error instanceof ProbeError
          ? error
          : new ProbeError(classifyNetworkError(error, clock.current, target), refusedCertificate),
      );
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      clock.enter('firstByte');
      resolve({
        socket,
        protocol: socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1',
        target,
        tls: observeTlsSession(socket).facts,
      });
    });
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
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
