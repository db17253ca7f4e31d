import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { z } from 'zod';
import { expected } from '../../config/zod-helpers.ts';
import type { Peer } from '../run-result.ts';

// Shared by the smtp and ftp probes (both resolve the host themselves so the dns phase is
// measured and the peer is known before the connect, even when the connect is refused).

/** `mail.example.com`, `10.0.0.25`, `::1` or `[::1]`: a host, without scheme or port. */
export function hostName(example: string) {
  return z.string({ error: expected(`a host name or IP address such as "${example}"`) }).refine(
    (text) => {
      const bare = unbracket(text);
      if (isIP(bare) !== 0) return true;
      return /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/.test(text);
    },
    {
      error: (issue) =>
        `expected a host name or IP address such as "${example}" (no scheme, no port), got ${JSON.stringify(issue.input)}`,
    },
  );
}

/** A TCP port number, 1–65535. */
export function portNumber() {
  return z
    .number({ error: expected('a port number (1-65535)') })
    .int({ error: (issue) => `expected a whole port number, got ${JSON.stringify(issue.input)}` })
    .min(1, { error: (issue) => `must be a port number 1-65535, got ${JSON.stringify(issue.input)}` })
    .max(65_535, { error: (issue) => `must be a port number 1-65535, got ${JSON.stringify(issue.input)}` });
}

/** `[::1]` → `::1`; anything else unchanged. */
export function unbracket(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

/** `127.0.0.1:25`, `[::1]:25`. */
export function formatTarget(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

export function addPeer(peers: Peer[], ip: string | undefined, port: number | undefined): void {
  if (!ip || !port) return;
  const bare = ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  if (!peers.some((peer) => peer.ip === bare && peer.port === port)) peers.push({ ip: bare, port });
}

/**
 * Resolves `host` to one address (an IP literal is returned as is). dns.lookup cannot be
 * cancelled, so an abort settles the promise at once and the late answer is ignored.
 */
export function lookupHost(host: string, signal: AbortSignal): Promise<string> {
  const bare = unbracket(host);
  if (isIP(bare) !== 0) return Promise.resolve(bare);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error('aborted'));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    lookup(bare, (error, address) => {
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(address);
    });
  });
}
