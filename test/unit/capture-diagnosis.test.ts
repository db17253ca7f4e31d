import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { analyzeCapture } from '../../capture/analyze-capture.ts';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2 } from '../../capture/link-types.ts';
import { decodePacket } from '../../capture/packet-decoder.ts';
import { PcapWriter } from '../../capture/pcap-writer.ts';
import type { RunScope } from '../../capture/run-scope.ts';
import { classifyNetworkError } from '../../src/checks/network-error.ts';
import { ethernet, tcpIpv4, udpIpv4 } from '../helpers/capture-packets.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pwcap-diag-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const T0 = 1_700_000_000_000; // ms
const client = (sport: number) => ({ src: '10.0.0.2', dst: '10.0.0.5', sport, dport: 443 });
const server = (sport: number) => ({ src: '10.0.0.5', dst: '10.0.0.2', sport: 443, dport: sport });

/** Writes IP packets at times (ms) as an Ethernet pcap. */
async function pcapOf(
  name: string,
  packets: [number, Buffer][],
  linkType = LINKTYPE_ETHERNET,
): Promise<string> {
  const file = join(dir, `${name}.pcap`);
  const writer = await PcapWriter.create(file, { linkType });
  for (const [ms, ip] of packets) {
    writer.write({
      timestampUs: Math.round(ms * 1000),
      data: linkType === LINKTYPE_ETHERNET ? ethernet(ip) : ip,
    });
  }
  await writer.close();
  return file;
}

/** An ICMPv4 destination unreachable from `from` quoting the IP packet `quoted`. */
function icmpUnreachable(from: string, to: string, code: number, quoted: Buffer): Buffer {
  const icmp = Buffer.concat([Buffer.from([3, code, 0, 0, 0, 0, 0, 0]), quoted.subarray(0, 28)]);
  const header = Buffer.alloc(20);
  header[0] = 0x45;
  header.writeUInt16BE(20 + icmp.length, 2);
  header[8] = 64;
  header[9] = 1;
  Buffer.from(from.split('.').map(Number)).copy(header, 12);
  Buffer.from(to.split('.').map(Number)).copy(header, 16);
  return Buffer.concat([header, icmp]);
}

const scope = (from: number, to: number, extra: Partial<RunScope> = {}): RunScope => ({
  startedAt: from,
  finishedAt: to,
  localPorts: [],
  ...extra,
});

/** An earlier run's SYNs that got no answer, 8 s before. */
const droppedEarlier: [number, Buffer][] = [0, 1000, 2000].map((at) => [
  T0 + at,
  tcpIpv4({ ...client(50001), flags: 'S', seq: 1 }),
]);

test("a refused run is diagnosed from its own flow, not an earlier run's dropped SYNs", async () => {
  const file = await pcapOf('refused-after-dropped', [
    ...droppedEarlier,
    [T0 + 8000.2, tcpIpv4({ ...client(50002), flags: 'S', seq: 7 })],
    [T0 + 8000.4, tcpIpv4({ ...server(50002), flags: 'RA', seq: 0, ack: 8 })],
  ]);
  const analysis = await analyzeCapture(file, scope(T0 + 8000, T0 + 8001));
  assert.equal(analysis.verdict, 'refused', analysis.diagnosis);
  assert.match(analysis.diagnosis, /^server 10\.0\.0\.5:443 refused the connection/);
  assert.deepEqual(analysis.diagnoses.length, 1);
  assert.match(analysis.context[0], /another run's flow: 3 SYNs to 10\.0\.0\.5:443 got no answer/);
  assert.deepEqual(
    analysis.tcpFlows.map((flow) => flow.ownRun),
    [false, true],
  );
});

test('local ports recorded by the probe pick the run’s flows even when spans are close', async () => {
  // Another check's SYN to the same peer in the same moment goes unanswered; this run's is refused.
  const file = await pcapOf('by-port', [
    [T0, tcpIpv4({ ...client(50003), flags: 'S', seq: 1 })],
    [T0 + 1, tcpIpv4({ ...client(50004), flags: 'S', seq: 1 })],
    [T0 + 1.3, tcpIpv4({ ...server(50004), flags: 'RA', ack: 2 })],
  ]);
  const analysis = await analyzeCapture(file, scope(T0 - 5, T0 + 5, { localPorts: [50004] }));
  assert.equal(analysis.verdict, 'refused', analysis.diagnosis);
  assert.equal(analysis.context.length, 1);
});

test('a failed run whose SYN-ACK came after its 2000 ms timeout reads as a slow handshake', async () => {
  const file = await pcapOf('slow-handshake', [
    [T0, tcpIpv4({ ...client(50005), flags: 'S', seq: 1 })],
    [T0 + 1000, tcpIpv4({ ...client(50005), flags: 'S', seq: 1 })],
    [T0 + 3002, tcpIpv4({ ...server(50005), flags: 'SA', seq: 90, ack: 2 })],
    [T0 + 3002.1, tcpIpv4({ ...client(50005), flags: 'R', seq: 2 })],
  ]);
  const analysis = await analyzeCapture(
    file,
    scope(T0 - 1, T0 + 2001, {
      timeoutMs: 2000,
      error: {
        class: 'connect_timeout',
        phase: 'connect',
        message: 'connect to 10.0.0.5:443 timed out after 2000 ms',
      },
    }),
  );
  assert.equal(analysis.verdict, 'slow_handshake');
  assert.equal(
    analysis.diagnosis,
    'server 10.0.0.5:443 accepted too late: SYN answered in 3002 ms, after the 2000 ms timeout (1 SYN retransmission)',
  );
  assert.doesNotMatch(analysis.diagnosis, /reset/);
});

test('a run whose connect failed with nothing on the wire: the probe host did not send', async () => {
  const passing: [number, Buffer][] = [
    [T0, tcpIpv4({ ...client(50006), flags: 'S', seq: 1 })],
    [T0 + 0.2, tcpIpv4({ ...server(50006), flags: 'SA', seq: 5, ack: 2 })],
    [T0 + 0.3, tcpIpv4({ ...client(50006), flags: 'A', seq: 2, ack: 6 })],
  ];
  const file = await pcapOf('not-sent', passing);
  for (const errorClass of ['refused', 'connect_timeout'] as const) {
    const analysis = await analyzeCapture(
      file,
      scope(T0 + 8000, T0 + 10_000, {
        error: { class: errorClass, phase: 'connect', message: 'connect to 10.0.0.5:443 refused' },
      }),
    );
    assert.equal(analysis.verdict, 'not_sent', analysis.diagnosis);
    assert.match(
      analysis.diagnosis,
      /^the probe host did not send: .*local firewall \(OUTPUT rule\) or route/,
    );
    assert.doesNotMatch(analysis.diagnosis, /no problem seen/);
  }
  const empty = await pcapOf('not-sent-empty', []);
  const nothing = await analyzeCapture(
    empty,
    scope(T0, T0 + 10, { error: { class: 'refused', phase: 'connect', message: 'refused' } }),
  );
  assert.match(nothing.diagnosis, /^the probe host did not send/);
});

test('EHOSTUNREACH and ENETUNREACH are their own class, and ICMP host unreachable names the route', async () => {
  for (const code of ['EHOSTUNREACH', 'ENETUNREACH']) {
    const error = classifyNetworkError(Object.assign(new Error(code), { code }), 'connect', '10.0.0.5:443');
    assert.equal(error.class, 'unreachable');
    assert.match(error.message, /no route to the (host|network)/);
  }
  const syn = tcpIpv4({ ...client(50007), flags: 'S', seq: 1 });
  const file = await pcapOf('icmp-unreachable', [
    [T0, syn],
    [T0 + 1, icmpUnreachable('10.0.0.1', '10.0.0.2', 1, syn)],
  ]);
  const analysis = await analyzeCapture(file, scope(T0 - 1, T0 + 5));
  assert.equal(analysis.verdict, 'unreachable');
  assert.match(
    analysis.diagnosis,
    /^10\.0\.0\.1 answered the SYN to 10\.0\.0\.5:443 with ICMP host unreachable: no route/,
  );
  const rejected = await pcapOf('icmp-port-unreachable', [
    [T0, syn],
    [T0 + 1, icmpUnreachable('10.0.0.5', '10.0.0.2', 3, syn)],
  ]);
  const reject = await analyzeCapture(rejected, scope(T0 - 1, T0 + 5));
  assert.equal(reject.verdict, 'refused', 'an iptables REJECT answers with ICMP port unreachable');
  assert.match(reject.diagnosis, /^server 10\.0\.0\.5:443 refused the connection \(ICMP port unreachable/);
});

test('unanswered SYNs: every location alike blames the target, others passing the path, alone nobody', async () => {
  const file = await pcapOf('all-failing', droppedEarlier);
  const alone = await analyzeCapture(file, scope(T0 - 1, T0 + 2500));
  assert.equal(alone.verdict, 'dropped', 'one vantage point alone names nobody');
  assert.match(alone.diagnosis, /lost on the way or dropped by the target \(no other location/);
  const othersPass = await analyzeCapture(file, scope(T0 - 1, T0 + 2500, { elsewhere: 'others-passing' }));
  assert.equal(othersPass.verdict, 'dropped_on_path');
  assert.match(
    othersPass.diagnosis,
    /dropped on the path from this location \(other locations reach the target\)$/,
  );
  const everywhere = await analyzeCapture(file, scope(T0 - 1, T0 + 2500, { elsewhere: 'all-failing' }));
  assert.equal(everywhere.verdict, 'dropped_at_target');
  assert.doesNotMatch(everywhere.diagnosis, /dropped on the path/);
  assert.match(
    everywhere.diagnosis,
    /every location fails alike, so the target \(or its own firewall\) drops them/,
  );
});

/** SLL2 header for `-i any`: the same packet is seen leaving and arriving on `lo`. */
function sll2(ip: Buffer, packetType: number): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(0x0800, 0);
  header.writeUInt32BE(1, 4);
  header.writeUInt16BE(772, 8);
  header[10] = packetType;
  header[11] = 6;
  return Buffer.concat([header, ip]);
}

test('duplicated frames from -i any are counted once: a refusal stays a refusal', async () => {
  const syn = tcpIpv4({ ...client(50008), flags: 'S', seq: 1 });
  const rst = tcpIpv4({ ...server(50008), flags: 'RA', ack: 2 });
  const file = await pcapOf(
    'duplicated',
    [
      [T0, sll2(syn, 4)],
      [T0 + 0.005, sll2(syn, 0)],
      [T0 + 0.2, sll2(rst, 4)],
      [T0 + 0.205, sll2(rst, 0)],
    ],
    LINKTYPE_LINUX_SLL2,
  );
  const analysis = await analyzeCapture(file);
  assert.equal(analysis.verdict, 'refused', analysis.diagnosis);
  assert.equal(analysis.duplicates, 2);
  assert.equal(analysis.tcpFlows[0].synsSent, 1);
  assert.equal(analysis.tcpFlows[0].retransmissions, 0);
});

test('a DNS answer with a compression loop is malformed, not "no answer"', async () => {
  const query = dnsPacket.encode({ type: 'query', id: 77, questions: [{ type: 'A', name: 'shop.example' }] });
  const answer = Buffer.from(
    dnsPacket.encode({
      type: 'response',
      id: 77,
      questions: [{ type: 'A', name: 'shop.example' }],
      answers: [{ type: 'A', name: 'shop.example', data: '10.0.0.5' }],
    }),
  );
  // The answer's name becomes a pointer to itself: a loop.
  answer.writeUInt16BE(0xc000 | 30, 30);
  const dns = { src: '10.0.0.2', dst: '10.0.0.53', sport: 40000, dport: 53 };
  const file = await pcapOf('dns-loop', [
    [T0, udpIpv4({ ...dns, payload: query })],
    [T0 + 2, udpIpv4({ src: dns.dst, dst: dns.src, sport: 53, dport: 40000, payload: answer })],
  ]);
  const analysis = await analyzeCapture(file);
  assert.equal(analysis.verdict, 'dns_malformed', analysis.diagnosis);
  assert.match(
    analysis.diagnosis,
    /^DNS query A shop\.example to 10\.0\.0\.53:53 was answered with a malformed DNS message/,
  );
  assert.equal(analysis.dns.unanswered, 0);
});

test('IPv4 with IHL 0 is flagged malformed, its ports are not made up', async () => {
  const packet = tcpIpv4({ ...client(50009), flags: 'S', seq: 1 });
  packet[0] = 0x40;
  const decoded = decodePacket(LINKTYPE_ETHERNET, ethernet(packet));
  assert.equal(decoded.tcp, undefined);
  assert.match(decoded.malformed ?? '', /IPv4 header length 0 bytes \(IHL 0\) is below the minimum of 20/);
  const file = await pcapOf('ihl-zero', [[T0, packet]]);
  const analysis = await analyzeCapture(file);
  assert.equal(analysis.tcpFlows.length, 0);
  assert.equal(analysis.malformed.count, 1);
  assert.match(analysis.diagnosis, /1 malformed packet not decoded \(IPv4 header length 0/);
});
