import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { headersOnlyLength } from '../../capture/headers-only-length.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2 } from '../../capture/link-types.ts';
import { decodePacket } from '../../capture/packet-decoder.ts';
import { alertRecord, clientHelloRecord, ethernet, tcpIpv4, udpIpv4 } from '../helpers/capture-packets.ts';

const ETH = 14;
const IP = 20;
const TCP = 20;
const hosts = { src: '10.0.0.1', dst: '10.0.0.2', sport: 40_000 };

/** The packet as a headers-only slice keeps it. */
function cut(linkType: number, frame: Buffer): Buffer {
  return frame.subarray(0, headersOnlyLength(linkType, frame));
}

test('an HTTP request over TCP keeps its headers and loses every payload byte', () => {
  const request = Buffer.from('GET / HTTP/1.1\r\nAuthorization: Bearer s3cr3t\r\n\r\n');
  const frame = ethernet(tcpIpv4({ ...hosts, dport: 80, flags: 'PA', payload: request }));
  assert.equal(headersOnlyLength(LINKTYPE_ETHERNET, frame), ETH + IP + TCP);
  const kept = decodePacket(LINKTYPE_ETHERNET, cut(LINKTYPE_ETHERNET, frame));
  assert.equal(
    kept.tcp?.payloadLength,
    request.length,
    'the length on the wire is still read from the IP header',
  );
  assert.equal(kept.tcp?.payload.length, 0);
});

test('TLS handshake and alert records are kept, application data is cut', () => {
  const hello = clientHelloRecord('pathwatch.test');
  const appData = Buffer.concat([Buffer.from([23, 3, 3, 0, 8]), Buffer.from('ciphered')]);
  const frame = ethernet(
    tcpIpv4({ ...hosts, dport: 443, flags: 'PA', payload: Buffer.concat([hello, appData]) }),
  );
  assert.equal(headersOnlyLength(LINKTYPE_ETHERNET, frame), ETH + IP + TCP + hello.length);
  assert.equal(
    decodePacket(LINKTYPE_ETHERNET, cut(LINKTYPE_ETHERNET, frame)).tcp?.tls?.clientHello?.serverName,
    'pathwatch.test',
  );
  const alert = ethernet(tcpIpv4({ ...hosts, dport: 443, flags: 'PA', payload: alertRecord(2, 40) }));
  assert.equal(headersOnlyLength(LINKTYPE_ETHERNET, alert), alert.length);
  const onlyData = ethernet(tcpIpv4({ ...hosts, dport: 443, flags: 'PA', payload: appData }));
  assert.equal(headersOnlyLength(LINKTYPE_ETHERNET, onlyData), ETH + IP + TCP);
  // Bytes that only start like a TLS record (a body continuing in a later segment) are cut.
  const lookalike = ethernet(
    tcpIpv4({ ...hosts, dport: 80, flags: 'PA', payload: Buffer.from([22, 3, 9, 0, 4, 1, 2, 3, 4]) }),
  );
  assert.equal(headersOnlyLength(LINKTYPE_ETHERNET, lookalike), ETH + IP + TCP);
});

test('DNS messages are kept whole, other UDP payloads are cut', () => {
  const query = dnsPacket.encode({
    type: 'query',
    id: 7,
    questions: [{ type: 'A', name: 'pathwatch.test' }],
  });
  const dns = ethernet(udpIpv4({ ...hosts, dport: 53, payload: query }));
  assert.equal(headersOnlyLength(LINKTYPE_ETHERNET, dns), dns.length);
  const other = ethernet(udpIpv4({ ...hosts, dport: 5000, payload: Buffer.from('hello there') }));
  assert.equal(headersOnlyLength(LINKTYPE_ETHERNET, other), ETH + IP + 8);
});

test('an ICMP error keeps the headers it quotes, not the quoted payload; echo data is cut', () => {
  const original = tcpIpv4({
    ...hosts,
    dport: 80,
    flags: 'PA',
    payload: Buffer.from('POST /login password=hunter2'),
  });
  const icmpHeader = Buffer.from([3, 3, 0, 0, 0, 0, 0, 0]); // port unreachable
  const icmp = (body: Buffer) => {
    const header = Buffer.from(tcpIpv4({ ...hosts, dport: 1 }).subarray(0, IP));
    header[9] = 1; // ICMP
    header.writeUInt16BE(IP + body.length, 2);
    return ethernet(Buffer.concat([header, body]));
  };
  const unreachable = icmp(Buffer.concat([icmpHeader, original]));
  assert.equal(headersOnlyLength(LINKTYPE_ETHERNET, unreachable), ETH + IP + 8 + IP + TCP);
  const echo = icmp(Buffer.concat([Buffer.from([8, 0, 0, 0, 0, 1, 0, 1]), Buffer.from('ping payload')]));
  assert.equal(headersOnlyLength(LINKTYPE_ETHERNET, echo), ETH + IP + 8);
});

test('LINUX_SLL2 (-i any) and IPv6 are cut after their headers too; an unknown link type keeps nothing', () => {
  const ipv6 = Buffer.alloc(40 + TCP + 5);
  ipv6[0] = 0x60;
  ipv6.writeUInt16BE(TCP + 5, 4);
  ipv6[6] = 6; // TCP
  ipv6[40 + 12] = 5 << 4;
  Buffer.from('hello').copy(ipv6, 40 + TCP);
  const sll2 = Buffer.concat([Buffer.from([0x86, 0xdd]), Buffer.alloc(18), ipv6]);
  assert.equal(headersOnlyLength(LINKTYPE_LINUX_SLL2, sll2), 20 + 40 + TCP);
  assert.equal(headersOnlyLength(147, Buffer.from('whatever this is')), 0);
  // A packet already shorter than its headers (a small snaplen) is kept as it is.
  const short = ethernet(tcpIpv4({ ...hosts, dport: 80 })).subarray(0, 30);
  assert.equal(headersOnlyLength(LINKTYPE_ETHERNET, short), 30);
});
