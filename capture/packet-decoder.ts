import * as dnsPacket from 'dns-packet';
import { recordText } from '../src/checks/dns/record-text.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from './link-types.ts';
import { parseTlsRecords, type TlsInfo } from './tls-records.ts';
import {
  DNS_PORT,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_VLAN,
  IPV6_EXTENSIONS,
  IPV6_FRAGMENT,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  PROTO_UDP,
} from './wire-numbers.ts';

export interface TcpFlags {
  syn: boolean;
  ack: boolean;
  fin: boolean;
  rst: boolean;
  psh: boolean;
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: TcpFlags;
  window: number;
  /** Payload bytes on the wire (from the IP length, so right even when the snaplen cut it). */
  payloadLength: number;
  /** The captured part of the payload. */
  payload: Buffer;
  tls?: TlsInfo;
  dns?: DnsMessage;
}

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payloadLength: number;
  payload: Buffer;
  dns?: DnsMessage;
}

/** An ICMP "destination unreachable" (v4 type 3, v6 type 1) and the packet it answers. */
export interface IcmpUnreachable {
  /** `host unreachable`, `port unreachable`, `administratively prohibited`, … */
  reason: string;
  /** A route is missing or a router gave up (not a refusal by the target itself). */
  routing: boolean;
  /** The packet it answers, from the copy the ICMP message quotes. */
  original: { src: string; dst: string; protocol: number; srcPort?: number; dstPort?: number };
}

export interface DnsMessage {
  id: number;
  /** true for a response. */
  qr: boolean;
  rcode: string;
  questions: { name: string; type: string }[];
  answers: { name: string; type: string; data: string }[];
  /**
   * Why the message did not parse past its 12-byte header (a name compression loop, a
   * record running past the end): id, qr and rcode come from the header, the rest is empty.
   */
  malformed?: string;
}

export interface DecodedPacket {
  /** Ethernet/SLL protocol number (0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP, …). */
  etherType?: number;
  /** Where the network layer starts: `-i any` sees a packet twice with different link headers. */
  networkOffset?: number;
  /**
   * Why the packet cannot be read as it claims to be (an IPv4 header length below 20 bytes,
   * a TCP data offset below 20 bytes): the layers past that point are left out, not guessed.
   */
  malformed?: string;
  ip?: { version: 4 | 6; src: string; dst: string; protocol: number; ttl: number; fragment: boolean };
  tcp?: TcpSegment;
  udp?: UdpDatagram;
  unreachable?: IcmpUnreachable;
}

/**
 * Destination-unreachable codes by IP version and what each says, in two groups: about
 * routing (no route, unknown host: a router gave up) or a refusal (port unreachable,
 * prohibited: the target or a firewall said no). A code in neither is a refusal.
 */
const UNREACHABLE_CODES: Readonly<
  Record<4 | 6, { routing: Readonly<Record<number, string>>; refusal: Readonly<Record<number, string>> }>
> = {
  4: {
    routing: { 0: 'network unreachable', 1: 'host unreachable', 6: 'network unknown', 7: 'host unknown' },
    refusal: {
      2: 'protocol unreachable',
      3: 'port unreachable',
      9: 'network administratively prohibited',
      10: 'host administratively prohibited',
      13: 'administratively prohibited',
    },
  },
  6: {
    routing: { 0: 'no route to destination', 3: 'address unreachable', 6: 'reject route to destination' },
    refusal: { 1: 'administratively prohibited', 4: 'port unreachable' },
  },
};

/**
 * Decodes link layer → IPv4/IPv6 → TCP/UDP, and DNS (dns-packet) and TLS record headers on
 * top. Never throws: a packet cut short by the snaplen, or not IP at all, yields the layers
 * that could be read.
 */
export function decodePacket(linkType: number, data: Buffer): DecodedPacket {
  const link = linkLayer(linkType, data);
  if (!link) return {};
  const decoded: DecodedPacket = { etherType: link.etherType, networkOffset: link.offset };
  try {
    if (link.etherType === ETHERTYPE_IPV4) decodeIpv4(data, link.offset, decoded);
    else if (link.etherType === ETHERTYPE_IPV6) decodeIpv6(data, link.offset, decoded);
  } catch {
    // A RangeError from a packet cut short: keep what was decoded.
  }
  return decoded;
}

function linkLayer(linkType: number, data: Buffer): { etherType: number; offset: number } | undefined {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (data.length < 14) return undefined;
      let offset = 12;
      let etherType = data.readUInt16BE(offset);
      while (ETHERTYPE_VLAN.includes(etherType) && data.length >= offset + 6) {
        offset += 4;
        etherType = data.readUInt16BE(offset);
      }
      return { etherType, offset: offset + 2 };
    }
    case LINKTYPE_LINUX_SLL:
      // packet type, ARPHRD, address length, 8 address bytes, protocol
      return data.length < 16 ? undefined : { etherType: data.readUInt16BE(14), offset: 16 };
    case LINKTYPE_LINUX_SLL2:
      // protocol, reserved, interface index, ARPHRD, packet type, address length, 8 address bytes
      return data.length < 20 ? undefined : { etherType: data.readUInt16BE(0), offset: 20 };
    default:
      return undefined;
  }
}

function decodeIpv4(data: Buffer, offset: number, decoded: DecodedPacket): void {
  if (data.length < offset + 20) return;
  if (data[offset] >> 4 !== 4) {
    decoded.malformed = `IPv4 packet with IP version ${data[offset] >> 4}`;
    return;
  }
  const headerLength = (data[offset] & 0x0f) * 4;
  const totalLength = data.readUInt16BE(offset + 2);
  const fragmentField = data.readUInt16BE(offset + 6);
  const moreFragments = (fragmentField & 0x2000) !== 0;
  const fragmentOffset = fragmentField & 0x1fff;
  const protocol = data[offset + 9];
  decoded.ip = {
    version: 4,
    src: ipv4Text(data, offset + 12),
    dst: ipv4Text(data, offset + 16),
    protocol,
    ttl: data[offset + 8],
    fragment: moreFragments || fragmentOffset > 0,
  };
  // An IHL below 5 (20 bytes) has no room for the addresses: the ports would be read from
  // inside the IP header, so the transport layer is not decoded at all.
  if (headerLength < 20) {
    decoded.malformed = `IPv4 header length ${headerLength} bytes (IHL ${headerLength / 4}) is below the minimum of 20`;
    return;
  }
  if (totalLength !== 0 && totalLength < headerLength) {
    decoded.malformed = `IPv4 total length ${totalLength} is shorter than its ${headerLength}-byte header`;
    return;
  }
  // Only the first fragment carries the transport header.
  if (fragmentOffset > 0) return;
  // A zero total length comes from TSO on the capturing host: the packet runs to the end.
  const ipEnd = totalLength === 0 ? data.length : offset + totalLength;
  transport(data, offset + headerLength, ipEnd, protocol, decoded);
}

function decodeIpv6(data: Buffer, offset: number, decoded: DecodedPacket): void {
  if (data.length < offset + 40) return;
  const payloadLength = data.readUInt16BE(offset + 4);
  let next = data[offset + 6];
  const end = offset + 40 + payloadLength;
  let cursor = offset + 40;
  let fragment = false;
  let laterFragment = false;
  while (IPV6_EXTENSIONS.has(next) || next === IPV6_FRAGMENT) {
    if (next === IPV6_FRAGMENT) {
      fragment = true;
      laterFragment = (data.readUInt16BE(cursor + 2) & 0xfff8) !== 0;
      next = data[cursor];
      cursor += 8;
    } else {
      const length = (data[cursor + 1] + 1) * 8;
      next = data[cursor];
      cursor += length;
    }
  }
  decoded.ip = {
    version: 6,
    src: ipv6Text(data, offset + 8),
    dst: ipv6Text(data, offset + 24),
    protocol: next,
    ttl: data[offset + 7],
    fragment,
  };
  if (laterFragment) return;
  transport(data, cursor, end, next, decoded);
}

/** `ipEnd` is where the IP packet ends on the wire (it may lie beyond the captured bytes). */
function transport(
  data: Buffer,
  offset: number,
  ipEnd: number,
  protocol: number,
  decoded: DecodedPacket,
): void {
  if (protocol === PROTO_TCP) {
    const headerLength = (data[offset + 12] >> 4) * 4;
    if (headerLength < 20 && data.length >= offset + 13) {
      decoded.malformed = `TCP data offset ${headerLength} bytes is below the minimum of 20`;
      return;
    }
    const flagByte = data[offset + 13];
    const payloadLength = Math.max(0, ipEnd - offset - headerLength);
    const payload = data.subarray(Math.min(data.length, offset + headerLength), Math.min(data.length, ipEnd));
    const segment: TcpSegment = {
      srcPort: data.readUInt16BE(offset),
      dstPort: data.readUInt16BE(offset + 2),
      seq: data.readUInt32BE(offset + 4),
      ack: data.readUInt32BE(offset + 8),
      flags: {
        fin: (flagByte & 0x01) !== 0,
        syn: (flagByte & 0x02) !== 0,
        rst: (flagByte & 0x04) !== 0,
        psh: (flagByte & 0x08) !== 0,
        ack: (flagByte & 0x10) !== 0,
      },
      window: data.readUInt16BE(offset + 14),
      payloadLength,
      payload,
    };
    decoded.tcp = segment;
    if (payload.length > 0) {
      if (segment.srcPort === DNS_PORT || segment.dstPort === DNS_PORT) {
        // DNS over TCP: a two-byte length, then the message.
        if (payload.length >= 2) segment.dns = decodeDns(payload.subarray(2, 2 + payload.readUInt16BE(0)));
      } else {
        segment.tls = parseTlsRecords(payload);
      }
    }
  } else if (protocol === PROTO_ICMP && data[offset] === 3) {
    decoded.unreachable = icmpUnreachable(data, offset + 8, data[offset + 1], 4);
  } else if (protocol === PROTO_ICMPV6 && data[offset] === 1) {
    decoded.unreachable = icmpUnreachable(data, offset + 8, data[offset + 1], 6);
  } else if (protocol === PROTO_UDP) {
    const length = data.readUInt16BE(offset + 4);
    const payload = data.subarray(Math.min(data.length, offset + 8), Math.min(data.length, offset + length));
    const datagram: UdpDatagram = {
      srcPort: data.readUInt16BE(offset),
      dstPort: data.readUInt16BE(offset + 2),
      payloadLength: Math.max(0, length - 8),
      payload,
    };
    decoded.udp = datagram;
    if (datagram.srcPort === DNS_PORT || datagram.dstPort === DNS_PORT) datagram.dns = decodeDns(payload);
  }
}

/** What an ICMP unreachable's code says, and whether it is about routing. */
function unreachableReason(code: number, version: 4 | 6): Pick<IcmpUnreachable, 'reason' | 'routing'> {
  const codes = UNREACHABLE_CODES[version];
  const routing = codes.routing[code];
  if (routing !== undefined) return { reason: routing, routing: true };
  return { reason: codes.refusal[code] ?? 'destination unreachable', routing: false };
}

/** The quoted packet of an ICMP unreachable: its addresses and, when quoted, its ports. */
function icmpUnreachable(
  data: Buffer,
  quoted: number,
  code: number,
  version: 4 | 6,
): IcmpUnreachable | undefined {
  const header = quotedIpHeader(data, quoted, version);
  if (!header) return undefined;
  const ports = data.length >= header.transportOffset + 4;
  return {
    ...unreachableReason(code, version),
    original: {
      src: header.src,
      dst: header.dst,
      protocol: header.protocol,
      srcPort: ports ? data.readUInt16BE(header.transportOffset) : undefined,
      dstPort: ports ? data.readUInt16BE(header.transportOffset + 2) : undefined,
    },
  };
}

/** The IP header an ICMP message quotes, and where the transport header after it starts. */
function quotedIpHeader(
  data: Buffer,
  at: number,
  version: 4 | 6,
): { src: string; dst: string; protocol: number; transportOffset: number } | undefined {
  if (version === 4) {
    const headerLength = (data[at] & 0x0f) * 4;
    if (data[at] >> 4 !== 4 || headerLength < 20 || data.length < at + 20) return undefined;
    const [src, dst] = [ipv4Text(data, at + 12), ipv4Text(data, at + 16)];
    return { src, dst, protocol: data[at + 9], transportOffset: at + headerLength };
  }
  if (data.length < at + 40) return undefined;
  const [src, dst] = [ipv6Text(data, at + 8), ipv6Text(data, at + 24)];
  return { src, dst, protocol: data[at + 6], transportOffset: at + 40 };
}

/**
 * A DNS message via dns-packet; undefined when shorter than a DNS header. A message that
 * does not parse past its header (a compression loop, cut by the snaplen, not DNS at all)
 * keeps the header's id, qr and rcode and says why in `malformed`, so a reply that cannot be
 * read is not mistaken for no reply.
 */
export function decodeDns(payload: Buffer): DnsMessage | undefined {
  if (payload.length < 12) return undefined;
  try {
    const message = dnsPacket.decode(payload);
    return {
      id: message.id ?? 0,
      qr: message.flag_qr,
      rcode: (message as { rcode?: string }).rcode ?? 'NOERROR',
      questions: (message.questions ?? []).map((question) => ({ name: question.name, type: question.type })),
      answers: (message.answers ?? []).map((answer) => ({
        name: answer.name,
        type: answer.type,
        data: safeRecordText(answer),
      })),
    };
  } catch (error) {
    const flags = payload.readUInt16BE(2);
    return {
      id: payload.readUInt16BE(0),
      qr: (flags & 0x8000) !== 0,
      rcode: RCODES[flags & 0x0f] ?? `RCODE${flags & 0x0f}`,
      questions: [],
      answers: [],
      malformed: `malformed DNS message (${(error as Error).message})`,
    };
  }
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

function safeRecordText(answer: dnsPacket.Answer): string {
  try {
    return recordText(answer);
  } catch {
    return '';
  }
}

function ipv4Text(data: Buffer, offset: number): string {
  return `${data[offset]}.${data[offset + 1]}.${data[offset + 2]}.${data[offset + 3]}`;
}

/** RFC 5952 text (lower case, longest zero run as ::), the form Node prints addresses in. */
export function ipv6Text(data: Buffer, offset: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(data.readUInt16BE(offset + i * 2));
  return compressIpv6(groups);
}

function compressIpv6(groups: number[]): string {
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `::ffff:${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/**
 * A peer's address in the decoder's form, so `::ffff:127.0.0.1` from a dual-stack socket and
 * `0:0::1` typed by hand match what is in the capture. IPv4-mapped addresses become IPv4.
 */
export function normalizeIp(ip: string): string {
  const bare = ip.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1];
  if (!bare.includes(':')) return bare;
  const [head, tail = ''] = bare.toLowerCase().split('::');
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const left = parse(head);
  const right = bare.includes('::') ? parse(tail) : [];
  const groups = [...left, ...new Array(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
  if (groups.length !== 8 || groups.some((group) => Number.isNaN(group))) return bare;
  return compressIpv6(groups);
}
