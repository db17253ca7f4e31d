import { networkInterfaces } from 'node:os';
import { type DecodedPacket, normalizeIp } from './packet-decoder.ts';

/**
 * Local TCP listening ports whose traffic never goes into a slice or a collection: the API's
 * own. Its requests carry its bearer tokens, and an unfiltered slice asked for through the API
 * would otherwise hold the very request that asked for it. A packet is excluded when one of its
 * ends is one of these ports on an address of this host (the API can only listen on those),
 * so a check of the same port on another host is still captured.
 */
export class ExcludedListeners {
  readonly #ports = new Set<number>();

  constructor(ports: Iterable<number> = []) {
    for (const port of ports) this.add(port);
  }

  /** Port 0 (ask the kernel) is ignored: call again with the port it gave. */
  add(port: number): void {
    if (Number.isInteger(port) && port > 0 && port <= 65_535) this.#ports.add(port);
  }

  get ports(): number[] {
    return [...this.#ports].sort((a, b) => a - b);
  }

  /** A predicate over decoded packets, with this host's addresses as they are now; undefined when nothing is excluded. */
  matcher(): ((packet: DecodedPacket) => boolean) | undefined {
    if (this.#ports.size === 0) return undefined;
    const ports = new Set(this.#ports);
    const local = new Set(localAddresses());
    const isLocal = (ip: string) => {
      const address = normalizeIp(ip);
      return local.has(address) || address.startsWith('127.');
    };
    return (packet) => {
      const tcp = packet.tcp;
      if (!packet.ip || !tcp) return false;
      return (
        (ports.has(tcp.srcPort) && isLocal(packet.ip.src)) ||
        (ports.has(tcp.dstPort) && isLocal(packet.ip.dst))
      );
    };
  }

  /**
   * The same exclusion as a tcpdump filter, so the ring does not hold this traffic either:
   * `not (tcp port 4600 and (net 127.0.0.0/8 or host ::1 or host 10.0.0.5))`.
   */
  tcpdumpExpression(): string | undefined {
    if (this.#ports.size === 0) return undefined;
    const hosts = [
      'net 127.0.0.0/8',
      ...localAddresses()
        .filter((ip) => !ip.startsWith('127.'))
        .map((ip) => `host ${ip}`),
    ];
    const ports = this.ports.map((port) => `tcp port ${port}`).join(' or ');
    return `not ((${ports}) and (${hosts.join(' or ')}))`;
  }
}

/** This host's addresses, IPv4-mapped forms as IPv4 and without IPv6 scope ids. */
function localAddresses(): string[] {
  const addresses = new Set<string>(['::1']);
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) addresses.add(normalizeIp(entry.address));
  }
  return [...addresses];
}

/** `user filter` and `exclusion`, either possibly empty, as one tcpdump expression. */
export function combineFilters(...parts: Array<string | undefined>): string {
  const present = parts.map((part) => part?.trim()).filter((part): part is string => Boolean(part));
  if (present.length <= 1) return present[0] ?? '';
  return present.map((part) => `(${part})`).join(' and ');
}
