import { isIP } from 'node:net';
import { z } from 'zod';
import { expected } from '../config/zod-helpers.ts';
import type { Peer } from '../results/run-result.ts';

// What every socket-level probe (http, tcp, tls, smtp, ftp, crawl) needs about the far
// end: the config fields that name it, how to write it in a message, and how to record it
// as a peer for packet-capture slicing.

/** `[::1]` → `::1`; anything else unchanged. */
export function unbracket(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

function isHostAddress(text: string): boolean {
  const bare = unbracket(text);
  if (isIP(bare)) return true;
  return (
    bare.length <= 253 && /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?$/.test(bare)
  );
}

/** A host name or IP address (IPv6 with or without brackets), without scheme, port or path. */
export function hostAddress() {
  return z
    .string({ error: expected('a host name or IP address such as "mail.example" or "10.0.0.5"') })
    .refine(isHostAddress, {
      error: (issue) =>
        `expected a host name or IP address without scheme, port or path, such as "mail.example", "10.0.0.5" or "::1", got ${JSON.stringify(issue.input)}`,
    });
}

/** A TCP port, 1–65535. */
export function portNumber() {
  const message = (issue: { input?: unknown }) =>
    `expected a port number from 1 to 65535, got ${JSON.stringify(issue.input)}`;
  return z
    .number({ error: expected('a port number from 1 to 65535') })
    .int({ error: message })
    .min(1, { error: message })
    .max(65_535, { error: message });
}

/** Address family to connect over when the host is a name: `any` (default) lets the resolver order decide. */
export function ipVersion() {
  return z.union([z.literal('any'), z.literal(4), z.literal(6)]).default('any');
}

/**
 * The target fields of every kind that talks to one host and port (tcp, tls, udp): `host`,
 * the given `port` schema (required, or with the kind's default) and `ipVersion`.
 */
export function endpointShape<Port extends z.ZodType>(port: Port, verb: string) {
  return {
    host: hostAddress().describe(
      `Host name or IP address to ${verb}. A name is looked up first (the dns phase); an IP literal is used as it is. Required.`,
    ),
    port,
    ipVersion: ipVersion().describe(
      'Address family when `host` is a name: `any`, `4` or `6`. Default `any`.',
    ),
  };
}

/**
 * The server fields of a kind that speaks one protocol to one named server (smtp, ftp):
 * `host`, said to be `server`, and an optional `port` whose default `port` describes.
 */
export function serverShape(server: string, port: string) {
  return {
    host: hostAddress().describe(`${server}: host name or IP address, no scheme or port. Required.`),
    port: portNumber().optional().describe(port),
  };
}

/** `127.0.0.1:443` or `[::1]:443`. */
export function formatTarget(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Local ports by peers list: kept beside it so `peers` stays the remote ip:port pairs. */
const localPortsByPeers = new WeakMap<Peer[], number[]>();

/**
 * Records a remote ip:port once; IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is kept as IPv4. With
 * `localPort` (a socket's, once connecting or connected) the run's own end is noted too
 * (read back with `localPortsOf`): a capture slice holds other runs' flows to the same
 * peer, and the local port tells this run's flows apart.
 */
export function addPeer(
  peers: Peer[],
  ip: string | undefined,
  port: number | undefined,
  localPort?: number,
): void {
  if (!ip || !port) return;
  const bare = ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  if (!peers.some((peer) => peer.ip === bare && peer.port === port)) peers.push({ ip: bare, port });
  if (!localPort) return;
  const ports = localPortsByPeers.get(peers) ?? [];
  if (!ports.includes(localPort)) ports.push(localPort);
  localPortsByPeers.set(peers, ports);
}

/** The local ports noted with `addPeer` for this peers list. */
export function localPortsOf(peers: Peer[]): number[] {
  return [...(localPortsByPeers.get(peers) ?? [])];
}
