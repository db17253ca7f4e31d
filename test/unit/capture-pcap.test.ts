import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { analyzeCapture } from '../../capture/analyze-capture.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from '../../capture/link-types.ts';
import { decodePacket, normalizeIp } from '../../capture/packet-decoder.ts';
import { PcapFormatError } from '../../capture/pcap-format-error.ts';
import { type PcapRecord, readPcap } from '../../capture/pcap-reader.ts';
import { PcapWriter } from '../../capture/pcap-writer.ts';
import { alertRecord, clientHelloRecord, ethernet, tcpIpv4, udpIpv4 } from '../helpers/capture-packets.ts';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pwcap-unit-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fixture = (name: string) => join(import.meta.dirname, '..', 'fixtures', 'pcap', name);

async function readAll(file: string): Promise<PcapRecord[]> {
  const records: PcapRecord[] = [];
  await readPcap(file, (record) => {
    records.push(record);
    return undefined;
  });
  return records;
}

/** Three TCP packets on Ethernet, written with our writer. */
async function sampleFile(name: string): Promise<string> {
  const file = join(dir, name);
  const writer = await PcapWriter.create(file, { linkType: LINKTYPE_ETHERNET, snaplen: 65535 });
  const flow = { src: '127.0.0.1', dst: '127.0.0.1', sport: 40000, dport: 8080 };
  writer.write({
    timestampUs: 1_700_000_000_000_001,
    data: ethernet(tcpIpv4({ ...flow, flags: 'S', seq: 100 })),
  });
  writer.write({
    timestampUs: 1_700_000_000_250_000,
    data: ethernet(
      tcpIpv4({ ...flow, flags: 'PA', seq: 101, payload: Buffer.from('GET / HTTP/1.1\r\n\r\n') }),
    ),
  });
  writer.write({
    timestampUs: 1_700_000_001_000_000,
    data: ethernet(tcpIpv4({ ...flow, flags: 'FA', seq: 119 })),
  });
  await writer.close();
  return file;
}

test('a pcap written by the writer reads back packet for packet, with µs timestamps', async () => {
  const file = await sampleFile('round-trip.pcap');
  const records = await readAll(file);
  assert.deepEqual(
    records.map((record) => record.timestampUs),
    [1_700_000_000_000_001, 1_700_000_000_250_000, 1_700_000_001_000_000],
  );
  const decoded = decodePacket(LINKTYPE_ETHERNET, records[1].data);
  assert.equal(decoded.ip?.src, '127.0.0.1');
  assert.equal(decoded.tcp?.dstPort, 8080);
  assert.equal(decoded.tcp?.payloadLength, 18);
  assert.equal(decoded.tcp?.flags.psh, true);
});

test('nanosecond and big-endian pcaps are read (pcap-parser alone refuses them)', async () => {
  const source = await readFile(await sampleFile('for-ns.pcap'));
  // Rewrite as big-endian nanosecond: header and record fields swapped, fractions × 1000.
  const out = Buffer.from(source);
  out.writeUInt32BE(0xa1b23c4d, 0);
  out.writeUInt16BE(2, 4);
  out.writeUInt16BE(4, 6);
  out.writeUInt32BE(source.readUInt32LE(16), 16);
  out.writeUInt32BE(source.readUInt32LE(20), 20);
  let offset = 24;
  while (offset < source.length) {
    const captured = source.readUInt32LE(offset + 8);
    out.writeUInt32BE(source.readUInt32LE(offset), offset);
    out.writeUInt32BE(source.readUInt32LE(offset + 4) * 1000 + 999, offset + 4);
    out.writeUInt32BE(captured, offset + 8);
    out.writeUInt32BE(source.readUInt32LE(offset + 12), offset + 12);
    offset += 16 + captured;
  }
  const file = join(dir, 'ns-be.pcap');
  await writeFile(file, out);
  const records = await readAll(file);
  assert.deepEqual(
    records.map((record) => record.timestampUs),
    [1_700_000_000_000_001, 1_700_000_000_250_000, 1_700_000_001_000_000],
  );
});

test('a truncated pcap is a PcapFormatError naming the file, the record and the byte offset', async () => {
  const file = await sampleFile('truncated.pcap');
  const full = (await readFile(file)).length;
  await truncate(file, full - 10);
  await assert.rejects(readAll(file), (error: unknown) => {
    assert.ok(error instanceof PcapFormatError);
    assert.equal(error.code, 'PCAP_TRUNCATED');
    assert.match(
      error.message,
      /truncated\.pcap: truncated record 3: header says 54 bytes, file ends after 44 \(at byte \d+\)/,
    );
    return true;
  });
  // A ring file being written ends the same way: there the partial tail is accepted.
  const summary = await readPcap(file, () => undefined, { allowTruncatedTail: true });
  assert.equal(summary.packets, 2);
  assert.equal(summary.truncatedTail, true);
});

test('a corrupt header, a pcapng file and a header cut short are refused clearly', async () => {
  const garbage = join(dir, 'garbage.pcap');
  await writeFile(garbage, Buffer.from('this is not a capture file at all, sorry'));
  await assert.rejects(
    readAll(garbage),
    /garbage\.pcap: not a pcap file: unknown magic number 0x74686973 \(at byte 0\)/,
  );
  const pcapng = join(dir, 'capture.pcapng');
  await writeFile(pcapng, Buffer.concat([Buffer.from([0x0a, 0x0d, 0x0d, 0x0a]), Buffer.alloc(40)]));
  await assert.rejects(readAll(pcapng), /pcapng is not supported: convert it with `editcap -F pcap/);
  const short = join(dir, 'short.pcap');
  await writeFile(short, (await readFile(await sampleFile('for-short.pcap'))).subarray(0, 10));
  await assert.rejects(readAll(short), {
    code: 'PCAP_TRUNCATED',
    message: /truncated global header: 10 of 24 bytes/,
  });
});

test('a record with an absurd length is corrupt, not a hang', async () => {
  const file = await sampleFile('huge-record.pcap');
  const bytes = await readFile(file);
  bytes.writeUInt32LE(0x7fffffff, 24 + 8); // first record's captured length
  await writeFile(file, bytes);
  await assert.rejects(readAll(file), {
    code: 'PCAP_CORRUPT_RECORD',
    message:
      /huge-record\.pcap: corrupt record 1: captured length 2147483647 exceeds the limit of 262144 bytes \(at byte 24\)/,
  });
});

test('an unsupported link type is refused by name', async () => {
  const file = join(dir, 'raw-ipv4.pcap');
  const writer = await PcapWriter.create(file, { linkType: 228 });
  writer.write({ timestampUs: 1, data: tcpIpv4({ src: '127.0.0.1', dst: '127.0.0.1', sport: 1, dport: 2 }) });
  await writer.close();
  await assert.rejects(readAll(file), {
    code: 'PCAP_UNSUPPORTED_LINK_TYPE',
    message:
      /raw-ipv4\.pcap: unsupported link type 228 \(IPV4\): pathwatch reads EN10MB \(1\), LINUX_SLL \(113\) and LINUX_SLL2 \(276\)/,
  });
});

for (const [name, linkType] of [
  ['tls-protocol-version-sll2.pcap', LINKTYPE_LINUX_SLL2],
  ['tls-protocol-version-sll.pcap', LINKTYPE_LINUX_SLL],
] as const) {
  test(`a real ${linkType === LINKTYPE_LINUX_SLL2 ? 'LINUX_SLL2 (-i any)' : 'LINUX_SLL'} capture decodes: SNI, TLS alert, diagnosis`, async () => {
    const analysis = await analyzeCapture(fixture(name));
    assert.equal(analysis.linkType, linkType);
    assert.equal(analysis.packets, 10);
    assert.equal(analysis.tcpFlows.length, 1);
    const [flow] = analysis.tcpFlows;
    assert.equal(flow.synsSent, 1);
    assert.equal(flow.synAcks, 1);
    assert.equal(flow.handshakeComplete, true);
    assert.equal(flow.tlsServerName, 'shop.example');
    assert.deepEqual(flow.tlsAlerts, [
      { from: 'server', level: 'fatal', description: 70, name: 'protocol_version' },
    ]);
    assert.equal(flow.finFromClient && flow.finFromServer, true);
    assert.equal(analysis.verdict, 'tls_alert');
    assert.equal(
      analysis.diagnosis,
      `server 127.0.0.1:${flow.server.port} sent TLS alert protocol_version (fatal, 70) for shop.example`,
    );
  });
}

test('DNS over UDP is decoded with dns-packet, and an unanswered query is the diagnosis', async () => {
  const query = dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name: 'shop.example' }],
  });
  const answered = dnsPacket.encode({
    type: 'query',
    id: 7,
    questions: [{ type: 'AAAA', name: 'api.example' }],
  });
  const response = dnsPacket.encode({
    type: 'response',
    id: 7,
    flags: dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: 'AAAA', name: 'api.example' }],
    answers: [{ type: 'AAAA', name: 'api.example', ttl: 60, data: '2001:db8::1' }],
  });
  const file = join(dir, 'dns.pcap');
  const writer = await PcapWriter.create(file, { linkType: LINKTYPE_ETHERNET });
  const client = { src: '10.0.0.2', dst: '10.0.0.53', sport: 5353, dport: 53 };
  const back = { src: '10.0.0.53', dst: '10.0.0.2', sport: 53, dport: 5353 };
  writer.write({ timestampUs: 1_000_000, data: ethernet(udpIpv4({ ...client, payload: query })) });
  writer.write({ timestampUs: 2_000_000, data: ethernet(udpIpv4({ ...client, payload: query })) });
  writer.write({ timestampUs: 2_100_000, data: ethernet(udpIpv4({ ...client, payload: answered })) });
  writer.write({ timestampUs: 2_112_500, data: ethernet(udpIpv4({ ...back, payload: response })) });
  await writer.close();

  const decoded = decodePacket(LINKTYPE_ETHERNET, ethernet(udpIpv4({ ...back, payload: response })));
  assert.deepEqual(decoded.udp?.dns, {
    id: 7,
    qr: true,
    rcode: 'NOERROR',
    questions: [{ name: 'api.example', type: 'AAAA' }],
    answers: [{ name: 'api.example', type: 'AAAA', data: '2001:db8::1' }],
  });
  const analysis = await analyzeCapture(file);
  assert.equal(analysis.dns.queries.length, 2);
  assert.equal(analysis.dns.unanswered, 1);
  assert.equal(analysis.dns.queries[0].attempts, 2);
  assert.equal(analysis.dns.queries[1].responseMs, 12.5);
  assert.equal(analysis.verdict, 'dns_unanswered');
  assert.equal(analysis.diagnosis, 'DNS query A shop.example to 10.0.0.53:53 got no answer (2 attempts)');
});

test('TLS ClientHello SNI and a clear-text alert are read from hand-built segments', () => {
  const flow = { src: '10.0.0.2', dst: '10.0.0.5', sport: 50000, dport: 443 };
  const hello = decodePacket(
    LINKTYPE_ETHERNET,
    ethernet(tcpIpv4({ ...flow, flags: 'PA', payload: clientHelloRecord('pay.shop.example') })),
  );
  assert.equal(hello.tcp?.tls?.clientHello?.serverName, 'pay.shop.example');
  const alert = decodePacket(
    LINKTYPE_ETHERNET,
    ethernet(tcpIpv4({ ...flow, flags: 'PA', payload: alertRecord(2, 48) })),
  );
  assert.deepEqual(alert.tcp?.tls?.alerts, [{ level: 'fatal', description: 48, name: 'unknown_ca' }]);
  // Not TLS at all: no TLS info, no exception.
  const http = decodePacket(
    LINKTYPE_ETHERNET,
    ethernet(tcpIpv4({ ...flow, flags: 'PA', payload: Buffer.from('GET / HTTP/1.1\r\n') })),
  );
  assert.equal(http.tcp?.tls, undefined);
  // A packet cut short yields the layers that could be read.
  assert.deepEqual(decodePacket(LINKTYPE_ETHERNET, ethernet(tcpIpv4(flow)).subarray(0, 30)).ip, undefined);
  assert.equal(decodePacket(LINKTYPE_ETHERNET, ethernet(tcpIpv4(flow)).subarray(0, 40)).tcp, undefined);
});

test('peer addresses are normalised to the form the decoder prints', () => {
  assert.equal(normalizeIp('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeIp('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(
    normalizeIp('[2001:DB8:0:0:1::5]'),
    '2001:db8::1:0:0:5',
    'the first of two equal zero runs is compressed',
  );
  assert.equal(normalizeIp('10.0.0.5'), '10.0.0.5');
});

test('a server that RSTs after the ClientHello, and dropped SYNs, are diagnosed from synthetic flows', async () => {
  const file = join(dir, 'synthetic.pcap');
  const writer = await PcapWriter.create(file, { linkType: LINKTYPE_ETHERNET });
  const c = { src: '10.0.0.2', dst: '10.0.0.5', sport: 50001, dport: 443 };
  const s = { src: '10.0.0.5', dst: '10.0.0.2', sport: 443, dport: 50001 };
  const packets = [
    tcpIpv4({ ...c, flags: 'S', seq: 1000 }),
    tcpIpv4({ ...s, flags: 'SA', seq: 9000, ack: 1001 }),
    tcpIpv4({ ...c, flags: 'A', seq: 1001, ack: 9001 }),
    tcpIpv4({ ...c, flags: 'PA', seq: 1001, ack: 9001, payload: clientHelloRecord('shop.example') }),
    tcpIpv4({ ...s, flags: 'RA', seq: 9001, ack: 1001, window: 0 }),
  ];
  packets.forEach((data, i) => {
    writer.write({ timestampUs: 1_000_000 + i * 1000, data: ethernet(data) });
  });
  await writer.close();
  const analysis = await analyzeCapture(file);
  assert.equal(analysis.verdict, 'reset_by_server');
  assert.equal(
    analysis.diagnosis,
    'server 10.0.0.5:443 reset the connection after the TLS ClientHello (SNI shop.example)',
  );
  assert.equal(analysis.tcpFlows[0].handshakeMs, 1);
  assert.deepEqual(
    analysis.tcpFlows[0].zeroWindows,
    { client: 0, server: 0 },
    'an RST with window 0 is not a zero window',
  );
});
