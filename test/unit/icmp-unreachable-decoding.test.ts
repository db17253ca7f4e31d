import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LINKTYPE_ETHERNET } from '../../capture/link-types.ts';
import { decodePacket } from '../../capture/packet-decoder.ts';

// ICMP destination-unreachable messages built byte by byte: what the decoder reads from the
// packet they quote (addresses, protocol, ports), and what their code says.

const PROTO_TCP = 6;

/** An Ethernet frame around an IP packet: two zeroed MAC addresses, then the EtherType. */
function ethernet(etherType: number, packet: Buffer): Buffer {
  const header = Buffer.alloc(14);
  header.writeUInt16BE(etherType, 12);
  return Buffer.concat([header, packet]);
}

function ipv4Header(protocol: number, src: number[], dst: number[], options = 0): Buffer {
  const header = Buffer.alloc(20 + options);
  header[0] = 0x40 | ((20 + options) / 4);
  header[8] = 64;
  header[9] = protocol;
  header.set(src, 12);
  header.set(dst, 16);
  return header;
}

function ipv6Header(next: number, src: number, dst: number): Buffer {
  const header = Buffer.alloc(40);
  header[0] = 0x60;
  header[6] = next;
  header[7] = 64;
  header[23] = src; // ::src
  header[39] = dst; // ::dst
  return header;
}

function ports(src: number, dst: number): Buffer {
  const tcp = Buffer.alloc(8);
  tcp.writeUInt16BE(src, 0);
  tcp.writeUInt16BE(dst, 2);
  return tcp;
}

function icmpv4Unreachable(code: number, quoted: Buffer): Buffer {
  const icmp = Buffer.concat([Buffer.from([3, code, 0, 0, 0, 0, 0, 0]), quoted]);
  const ip = ipv4Header(1, [10, 0, 0, 254], [10, 0, 0, 1]);
  ip.writeUInt16BE(ip.length + icmp.length, 2);
  return ethernet(0x0800, Buffer.concat([ip, icmp]));
}

function icmpv6Unreachable(code: number, quoted: Buffer): Buffer {
  const icmp = Buffer.concat([Buffer.from([1, code, 0, 0, 0, 0, 0, 0]), quoted]);
  const ip = ipv6Header(58, 0xfe, 1);
  ip.writeUInt16BE(icmp.length, 4);
  return ethernet(0x86dd, Buffer.concat([ip, icmp]));
}

test('an IPv4 unreachable names its code and the quoted packet, ports read past IP options', () => {
  const quoted = Buffer.concat([ipv4Header(PROTO_TCP, [10, 0, 0, 1], [192, 0, 2, 7], 8), ports(40_000, 443)]);
  const refused = decodePacket(LINKTYPE_ETHERNET, icmpv4Unreachable(3, quoted)).unreachable;
  assert.deepEqual(refused, {
    reason: 'port unreachable',
    routing: false,
    original: { src: '10.0.0.1', dst: '192.0.2.7', protocol: PROTO_TCP, srcPort: 40_000, dstPort: 443 },
  });
  const noRoute = decodePacket(LINKTYPE_ETHERNET, icmpv4Unreachable(1, quoted)).unreachable;
  assert.equal(noRoute?.reason, 'host unreachable');
  assert.equal(noRoute?.routing, true);
});

test('an IPv6 unreachable names its code and the quoted packet with its ports', () => {
  const quoted = Buffer.concat([ipv6Header(PROTO_TCP, 1, 7), ports(40_001, 22)]);
  const noRoute = decodePacket(LINKTYPE_ETHERNET, icmpv6Unreachable(0, quoted)).unreachable;
  assert.deepEqual(noRoute, {
    reason: 'no route to destination',
    routing: true,
    original: { src: '::1', dst: '::7', protocol: PROTO_TCP, srcPort: 40_001, dstPort: 22 },
  });
  const prohibited = decodePacket(LINKTYPE_ETHERNET, icmpv6Unreachable(1, quoted)).unreachable;
  assert.equal(prohibited?.reason, 'administratively prohibited');
  assert.equal(prohibited?.routing, false);
});

test('an unknown code is a refusal; a quote without its ports has none', () => {
  const quoted = ipv6Header(PROTO_TCP, 1, 7);
  assert.deepEqual(decodePacket(LINKTYPE_ETHERNET, icmpv6Unreachable(99, quoted)).unreachable, {
    reason: 'destination unreachable',
    routing: false,
    original: { src: '::1', dst: '::7', protocol: PROTO_TCP, srcPort: undefined, dstPort: undefined },
  });
});

test('a quote too short for its IP header is not decoded', () => {
  const cut = ipv4Header(PROTO_TCP, [10, 0, 0, 1], [192, 0, 2, 7]).subarray(0, 12);
  assert.equal(decodePacket(LINKTYPE_ETHERNET, icmpv4Unreachable(3, cut)).unreachable, undefined);
});
