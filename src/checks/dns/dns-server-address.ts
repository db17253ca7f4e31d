import { isIP } from 'node:net';

/** The exact server a dns check asks. */
export interface DnsServerAddress {
  ip: string;
  port: number;
  family: 4 | 6;
}

export const DEFAULT_DNS_PORT = 53;

/**
 * Parses `10.0.0.53`, `10.0.0.53:5353`, `::1` or `[::1]:5353`; undefined when the text is
 * not an IP literal with an optional port in 1–65535.
 */
export function parseDnsServer(text: string): DnsServerAddress | undefined {
  const trimmed = text.trim();
  const bare = isIP(trimmed);
  if (bare) return { ip: trimmed, port: DEFAULT_DNS_PORT, family: bare as 4 | 6 };
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(trimmed) ?? /^([^:[\]]+):(\d{1,5})$/.exec(trimmed);
  if (!match) return undefined;
  const family = isIP(match[1]);
  const port = Number(match[2]);
  if (!family || port < 1 || port > 65_535) return undefined;
  // A bracketed IPv4 address or a bare IPv6 one with a port would be ambiguous: reject.
  if ((family === 6) !== trimmed.startsWith('[')) return undefined;
  return { ip: match[1], port, family: family as 4 | 6 };
}

/** `127.0.0.1:53` or `[::1]:53`, the form used in messages and details. */
export function formatDnsServer(server: { ip: string; port: number }): string {
  return isIP(server.ip) === 6 ? `[${server.ip}]:${server.port}` : `${server.ip}:${server.port}`;
}
