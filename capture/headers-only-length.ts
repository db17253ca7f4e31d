import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from './link-types.ts';
import {
  DNS_PORT,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_VLAN,
  IPV6_EXTENSIONS,
  IPV6_FRAGMENT,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  PROTO_UDP,
  TLS_ALERT,
  TLS_CHANGE_CIPHER_SPEC,
  TLS_HANDSHAKE,
} from './wire-numbers.ts';

/** What a slice keeps of each packet: `headers` (the default) cuts every payload the analysis does not read. */
export type PayloadMode = 'headers' | 'full';

/** Largest TLS record a peer may send (2^14 plus expansion). */
const TLS_MAX_RECORD = 18_432;

/**
 * How many leading bytes of a captured packet are headers: link, IP (with options and IPv6
 * extension headers), TCP/UDP, ICMP with the headers it quotes; plus, because the analysis
 * reads them, whole DNS messages (port 53) and the clear-text TLS records at the start of a
 * segment (handshake: ClientHello, ServerHello, Certificate; alerts; change_cipher_spec).
 * Everything after is payload: HTTP headers and bodies, SMTP/FTP dialogues, TLS application
 * data. The caller truncates the record to this length and keeps its original length, as
 * `tcpdump -s` does, so tools show "[Packet size limited during capture]" rather than garbage.
 *
 * Never throws: a packet it cannot read past a point is cut at that point (an unknown link
 * type keeps nothing), which errs on the side of keeping less.
 */
export function headersOnlyLength(linkType: number, data: Buffer): number {
  try {
    return Math.min(data.length, packetHeadersEnd(linkType, data));
  } catch {
    return 0;
  }
}

function packetHeadersEnd(linkType: number, data: Buffer): number {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (data.length < 14) return data.length;
      let offset = 12;
      let etherType = data.readUInt16BE(offset);
      while (ETHERTYPE_VLAN.includes(etherType) && data.length >= offset + 6) {
        offset += 4;
        etherType = data.readUInt16BE(offset);
      }
      return afterLink(etherType, data, offset + 2);
    }
    case LINKTYPE_LINUX_SLL:
      return data.length < 16 ? data.length : afterLink(data.readUInt16BE(14), data, 16);
    case LINKTYPE_LINUX_SLL2:
      return data.length < 20 ? data.length : afterLink(data.readUInt16BE(0), data, 20);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      // A 4-byte address family, then the IP packet.
      return data.length < 5 ? data.length : ipByVersion(data, 4);
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return ipByVersion(data, 0);
    default:
      return 0;
  }
}

function afterLink(etherType: number, data: Buffer, offset: number): number {
  if (etherType === ETHERTYPE_IPV4) return ipv4(data, offset);
  if (etherType === ETHERTYPE_IPV6) return ipv6(data, offset);
  // ARP is all header; any other protocol's body is unknown, so it is cut.
  if (etherType === ETHERTYPE_ARP) return data.length;
  return offset;
}

function ipByVersion(data: Buffer, offset: number): number {
  if (data.length <= offset) return data.length;
  const version = data[offset] >> 4;
  if (version === 4) return ipv4(data, offset);
  if (version === 6) return ipv6(data, offset);
  return offset;
}

function ipv4(data: Buffer, offset: number): number {
  if (data.length < offset + 20) return data.length;
  const headerLength = (data[offset] & 0x0f) * 4;
  if (headerLength < 20) return offset + 20;
  const totalLength = data.readUInt16BE(offset + 2);
  const fragmentOffset = data.readUInt16BE(offset + 6) & 0x1fff;
  const transportStart = offset + headerLength;
  // A later fragment carries payload only.
  if (fragmentOffset > 0) return transportStart;
  // A zero total length comes from TSO on the capturing host: the packet runs to the end.
  const ipEnd = totalLength === 0 ? data.length : Math.max(transportStart, offset + totalLength);
  return transportHeaders(data, data[offset + 9], transportStart, ipEnd);
}

function ipv6(data: Buffer, offset: number): number {
  if (data.length < offset + 40) return data.length;
  const ipEnd = offset + 40 + data.readUInt16BE(offset + 4);
  let next = data[offset + 6];
  let cursor = offset + 40;
  while (IPV6_EXTENSIONS.has(next) || next === IPV6_FRAGMENT) {
    if (cursor + 8 > data.length) return data.length;
    if (next === IPV6_FRAGMENT) {
      const laterFragment = (data.readUInt16BE(cursor + 2) & 0xfff8) !== 0;
      next = data[cursor];
      cursor += 8;
      if (laterFragment) return cursor;
    } else {
      const length = (data[cursor + 1] + 1) * 8;
      next = data[cursor];
      cursor += length;
    }
  }
  return transportHeaders(data, next, cursor, ipEnd);
}

/** `ipEnd` is where the IP packet ends on the wire; it may lie beyond the captured bytes. */
function transportHeaders(data: Buffer, protocol: number, offset: number, ipEnd: number): number {
  if (protocol === PROTO_TCP) {
    if (data.length < offset + 13) return data.length;
    const headerLength = Math.max(20, (data[offset + 12] >> 4) * 4);
    const payloadStart = offset + headerLength;
    const srcPort = data.readUInt16BE(offset);
    const dstPort = data.readUInt16BE(offset + 2);
    if (srcPort === DNS_PORT || dstPort === DNS_PORT) return Math.max(payloadStart, ipEnd);
    return payloadStart + tlsRecordsLength(data.subarray(payloadStart, Math.min(data.length, ipEnd)));
  }
  if (protocol === PROTO_UDP) {
    if (data.length < offset + 8) return data.length;
    const srcPort = data.readUInt16BE(offset);
    const dstPort = data.readUInt16BE(offset + 2);
    if (srcPort === DNS_PORT || dstPort === DNS_PORT) return Math.max(offset + 8, ipEnd);
    return offset + 8;
  }
  if (protocol === PROTO_ICMP) return icmp(data, offset, ICMP_ERRORS.has(data[offset]) ? 'quote' : 'header');
  if (protocol === PROTO_ICMPV6) {
    const type = data[offset];
    return icmp(data, offset, ICMPV6_ERRORS.has(type) ? 'quote' : ICMPV6_ECHO.has(type) ? 'header' : 'all');
  }
  // Other protocols (GRE, ESP, SCTP, …): the IP header only.
  return offset;
}

/** Destination unreachable, source quench, redirect, time exceeded, parameter problem. */
const ICMP_ERRORS = new Set([3, 4, 5, 11, 12]);
const ICMPV6_ERRORS = new Set([1, 2, 3, 4]);
const ICMPV6_ECHO = new Set([128, 129]);

/**
 * ICMP errors quote the packet that caused them (up to 576 bytes on Linux): its headers are
 * evidence of which flow was refused or expired, its payload is the sender's data and is cut.
 * Echo and other ICMPv4 data is cut after the 8-byte header; ICMPv6 neighbour discovery and
 * the like carry no user data and are kept whole.
 */
function icmp(data: Buffer, offset: number, keep: 'quote' | 'header' | 'all'): number {
  if (keep === 'all' || data.length < offset + 8) return data.length;
  if (keep === 'header') return offset + 8;
  const quoted = offset + 8;
  if (data.length <= quoted) return data.length;
  const version = data[quoted] >> 4;
  if (version === 4) {
    if (data.length < quoted + 20) return data.length;
    const headerLength = Math.max(20, (data[quoted] & 0x0f) * 4);
    return quotedTransport(data, data[quoted + 9], quoted + headerLength);
  }
  if (version === 6) return quotedTransport(data, data[quoted + 6], quoted + 40);
  return quoted;
}

function quotedTransport(data: Buffer, protocol: number, offset: number): number {
  if (protocol === PROTO_TCP && data.length >= offset + 13)
    return offset + Math.max(20, (data[offset + 12] >> 4) * 4);
  if (protocol === PROTO_TCP || protocol === PROTO_UDP) return offset + (protocol === PROTO_UDP ? 8 : 20);
  return offset;
}

/**
 * Bytes of clear-text TLS records (handshake, alert, change_cipher_spec) at the start of a
 * segment's payload, stopping at the first record that is not one (application data) or does
 * not look like TLS at all (plain HTTP starts with a letter, never with 20-22). A handshake
 * record longer than the segment (a Certificate) is kept to the segment's end; its
 * continuation in the next segment has no record header and is cut.
 */
function tlsRecordsLength(payload: Buffer): number {
  let offset = 0;
  while (offset + 5 <= payload.length) {
    const type = payload[offset];
    const major = payload[offset + 1];
    const minor = payload[offset + 2];
    const length = payload.readUInt16BE(offset + 3);
    const clearText = type === TLS_HANDSHAKE || type === TLS_ALERT || type === TLS_CHANGE_CIPHER_SPEC;
    if (!clearText || major !== 3 || minor > 4 || length === 0 || length > TLS_MAX_RECORD) break;
    offset = Math.min(payload.length, offset + 5 + length);
  }
  return offset;
}
