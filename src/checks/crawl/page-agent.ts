import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import type { TlsSessionFacts } from '../../assertions/certificate-checks.ts';
import type { Peer } from '../../results/run-result.ts';
import { openHttpConnection } from '../http/open-http-connection.ts';
import { PhaseClock } from '../phase-clock.ts';

/**
 * What one page's new connection needs from its request: passed through `http.request`
 * options (the agent hands them to `createConnection`) as `pageDial`.
 */
export interface PageDial {
  /** Ends the dial: the page's own timeout or the crawl's deadline. */
  signal: AbortSignal;
  timeoutMs: number;
  onPhase(phase: string): void;
  onPeer(ip: string, port: number): void;
}

export interface PageAgentOptions {
  root: URL;
  /** Connections kept open at once: the crawl's concurrency. */
  maxSockets: number;
  /** From the `tls` block, without a `servername` unless configured; https only. */
  tls: ConnectionOptions;
  family?: 4 | 6;
  /** The crawl's deadline: ends a dial made for a request whose own page is over (see below). */
  signal: AbortSignal;
  /** Every TLS handshake, as seen (the first one's certificate is the site's). */
  onHandshake?(facts: TlsSessionFacts): void;
}

function noop(): void {}

/** The PhaseClock dialTcp wants, relaying each phase to the page (the root page's go to the crawl's clock). */
class PhaseRelay extends PhaseClock {
  constructor(private readonly relay: (phase: string) => void) {
    super();
  }

  override enter(phase: string | undefined): void {
    super.enter(phase);
    if (phase) this.relay(phase);
  }
}

/**
 * One origin, one keep-alive pool: a page costs a request, not a handshake. New connections
 * come from `openHttpConnection`, as the http probe's do (dns, every address with its share
 * of the page timeout, peers, TLS over the dialed socket). HTTP/1.1 only: the pool is
 * Node's Agent, which does not speak HTTP/2.
 */
export function pageAgent(options: PageAgentOptions): http.Agent {
  const isHttps = options.root.protocol === 'https:';
  const agent = isHttps
    ? new https.Agent({ keepAlive: true, maxSockets: options.maxSockets })
    : new http.Agent({ keepAlive: true, maxSockets: options.maxSockets });
  agent.createConnection = (requestOptions, callback) => {
    const dial = (requestOptions as { pageDial?: PageDial }).pageDial;
    if (!dial) throw new Error('pageAgent: a request without pageDial options (use fetchPage)');
    // The request's own host and port (always the root's origin today: the crawl stays in it).
    const host = String(requestOptions.host ?? options.root.hostname);
    const url = new URL(`${options.root.protocol}//${isIP(host) === 6 ? `[${host}]` : host}`);
    if (requestOptions.port) url.port = String(requestOptions.port);
    // Node's Agent replaces a closed socket for a queued request with the options the closed
    // socket was made with: another page's, whose signal fired when that page ended. Such a
    // dial gets the crawl's deadline and a page timeout of its own, and tells no phases.
    const live = !dial.signal.aborted;
    const signal = live
      ? dial.signal
      : AbortSignal.any([options.signal, AbortSignal.timeout(dial.timeoutMs)]);
    const peers: Peer[] = [];
    const relayPeers = () => {
      for (const peer of peers) dial.onPeer(peer.ip, peer.port);
    };
    openHttpConnection({
      url,
      family: options.family,
      tls: options.tls,
      offerHttp2: false,
      signal,
      timeoutMs: dial.timeoutMs,
      clock: new PhaseRelay(live ? dial.onPhase : noop),
      peers,
    }).then(
      (connection) => {
        relayPeers();
        if (connection.tls) options.onHandshake?.(connection.tls);
        callback?.(null, connection.socket as Duplex);
      },
      (error: Error) => {
        relayPeers();
        callback?.(error, undefined as unknown as Duplex);
      },
    );
    return undefined as unknown as Duplex;
  };
  return agent;
}
