import { lookup } from 'node:dns/promises';
import net, { isIP } from 'node:net';
import type { CodedRunError } from '../../results/error-codes.ts';
import type { Peer } from '../../results/run-result.ts';
import { ProbeError } from '../errors/probe-error.ts';
import { classifyNetworkError, timeoutError } from '../network-error.ts';
import type { PhaseClock } from '../phase-clock.ts';
import { addPeer, formatTarget, unbracket } from '../remote-endpoint.ts';

export interface DialOptions {
  /** Host name or IP literal (IPv6 with or without brackets). */
  host: string;
  port: number;
  /**
   * Address family for a name.
   * @defaultValue whatever the resolver returns, in its order
   */
  family?: 4 | 6;
  signal: AbortSignal;
  /** The check's whole timeout, for "timed out after N ms". */
  timeoutMs: number;
  /**
   * Epoch ms at which `signal` fires: each address gets its share of what is left.
   * @defaultValue now + `timeoutMs`
   */
  deadline?: number;
  clock: PhaseClock;
  /** Every address tried is added here, so a capture can be cut to those flows. */
  peers: Peer[];
}

/** A connected TCP socket and the address that answered. */
export interface DialedSocket {
  socket: net.Socket;
  /** The remote end actually connected to. */
  remote: Peer;
  /** `ip:port` (or `[ip]:port`) actually connected to, for messages. */
  target: string;
}

function noop(): void {}

/**
 * THE way every socket probe (tcp, tls, smtp, ftp control) connects: looks the host up
 * (phase dns, names only), then connects (phase connect) to every address in the
 * resolver's order until one accepts, like blackbox_exporter's dialTCP but without giving
 * up after the first address.
 *
 * Each address gets an equal share of the time left (two addresses, 10 s left: 5 s for the
 * first), so a silent address (a broken IPv6 route) cannot use up the deadline the working
 * one needed. Node's `autoSelectFamily` is not used: it only alternates families, gives each
 * attempt a fixed 250 ms whatever the check's timeout, and does its own lookup, so the dns
 * phase and the addresses tried (peers, for the capture) would not be ours to record.
 */
export async function dialTcp(options: DialOptions): Promise<DialedSocket> {
  const { port, clock, peers, signal, timeoutMs } = options;
  const deadline = options.deadline ?? Date.now() + timeoutMs;
  const host = unbracket(options.host);
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    clock.enter('dns');
    addresses = await resolveHost(host, options);
  }
  clock.enter('connect');
  const failures: string[] = [];
  for (const [index, ip] of addresses.entries()) {
    addPeer(peers, ip, port);
    const target = formatTarget(ip, port);
    const last = index === addresses.length - 1;
    // The last address keeps the rest of the deadline: its timeout is the check's own.
    const shareMs = last ? undefined : Math.max(0, (deadline - Date.now()) / (addresses.length - index));
    const outcome = await connectOnce(ip, port, target, signal, timeoutMs, shareMs);
    addPeer(peers, ip, port, outcome.localPort);
    if (outcome.socket) return { socket: outcome.socket, remote: { ip, port }, target };
    if (last || signal.aborted) {
      const also = failures.length > 0 ? ` (also failed: ${failures.join(', ')})` : '';
      throw new ProbeError({ ...outcome.error, message: `${outcome.error.message}${also}` });
    }
    failures.push(`${target} ${outcome.reason}`);
  }
  throw new Error(`dialTcp: no address to connect to for ${host}`);
}

async function resolveHost(host: string, options: DialOptions): Promise<string[]> {
  const { signal, timeoutMs } = options;
  if (signal.aborted) throw new ProbeError(timeoutError('dns', host, timeoutMs));
  // dns.lookup cannot be cancelled: on abort the run moves on and the late answer is dropped.
  let onAbort: () => void = noop;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new ProbeError(timeoutError('dns', host, timeoutMs)));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const found = await Promise.race([lookup(host, { all: true, family: options.family ?? 0 }), aborted]);
    if (found.length === 0) {
      throw ProbeError.of(
        'DNS_NOT_FOUND',
        `dns lookup of ${host} found no IPv${options.family ?? ''} address`,
        'dns',
      );
    }
    return found.map((entry) => entry.address);
  } catch (error) {
    if (error instanceof ProbeError) throw error;
    throw new ProbeError(classifyNetworkError(error, 'dns', host));
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

type ConnectOutcome = (
  | { socket: net.Socket; error?: undefined; reason?: undefined }
  | { socket?: undefined; error: CodedRunError; reason: string }
) & {
  /** This end's port, read while the socket still has it: tells this run's flows in a capture. */
  localPort?: number;
};

/** One connection attempt, ended by an error, the abort signal or (when given) its share of the deadline. */
function connectOnce(
  ip: string,
  port: number,
  target: string,
  signal: AbortSignal,
  timeoutMs: number,
  shareMs: number | undefined,
): Promise<ConnectOutcome> {
  return new Promise<ConnectOutcome>((resolve) => {
    const socket = net.connect({ host: ip, port, noDelay: true });
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: ConnectOutcome) => {
      outcome.localPort = socket.localPort;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      if (outcome.error) {
        socket.on('error', noop);
        socket.destroy();
      }
      resolve(outcome);
    };
    const onAbort = () => finish({ error: timeoutError('connect', target, timeoutMs), reason: 'timed out' });
    const onConnect = () => finish({ socket });
    const onError = (error: NodeJS.ErrnoException) =>
      finish({ error: classifyNetworkError(error, 'connect', target), reason: error.code ?? error.message });
    socket.on('connect', onConnect);
    socket.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    if (shareMs !== undefined) {
      const ms = Math.round(shareMs);
      timer = setTimeout(
        () =>
          finish({
            error: timeoutError('connect', target, ms),
            reason: `no answer within its ${ms} ms share of the timeout`,
          }),
        ms,
      );
    }
    if (signal.aborted) onAbort();
  });
}
