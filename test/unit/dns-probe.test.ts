import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import {
  closedUdpPort,
  startTestDnsServer,
  type TestDnsServer,
  type ZoneRecord,
} from '../helpers/test-dns-server.ts';
import { closedPort } from '../helpers/test-servers.ts';

const zone: ZoneRecord[] = [
  { name: 'shop.example', type: 'A', ttl: 300, data: '10.0.0.1' },
  { name: 'shop.example', type: 'A', ttl: 300, data: '10.0.0.2' },
  { name: 'shop.example', type: 'AAAA', ttl: 300, data: '2001:db8::1' },
  { name: 'shop.example', type: 'MX', ttl: 300, data: { preference: 10, exchange: 'mail.shop.example' } },
  { name: 'shop.example', type: 'MX', ttl: 300, data: { preference: 20, exchange: 'backup.shop.example' } },
  // Long TXT values arrive as several strings; the text form joins them.
  { name: 'shop.example', type: 'TXT', ttl: 300, data: ['v=spf1 include:_spf.shop.example', ' -all'] },
  { name: 'shop.example', type: 'TXT', ttl: 300, data: 'site-verification=abc123' },
  { name: 'shop.example', type: 'NS', ttl: 300, data: 'ns1.shop.example' },
  {
    name: 'shop.example',
    type: 'SOA',
    ttl: 300,
    data: {
      mname: 'ns1.shop.example',
      rname: 'hostmaster.shop.example',
      serial: 2024010101,
      refresh: 7200,
      retry: 3600,
      expire: 1209600,
      minimum: 300,
    },
  },
  { name: 'www.shop.example', type: 'CNAME', ttl: 300, data: 'shop.example' },
  {
    name: '_sip._tcp.shop.example',
    type: 'SRV',
    ttl: 300,
    data: { priority: 10, weight: 5, port: 5060, target: 'sip.shop.example' },
  },
  { name: '1.0.0.10.in-addr.arpa', type: 'PTR', ttl: 300, data: 'shop.example' },
  {
    // 2001:0db8:0000:0000:0000:0000:0000:0001, nibbles reversed: 1 0 0 0, twenty 0, 8 b d 0 1 0 0 2.
    name: '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
    type: 'PTR',
    ttl: 300,
    data: 'shop.example',
  },
];

let dns: TestDnsServer;
let silent: TestDnsServer;
let truncating: TestDnsServer;
let slow: TestDnsServer;
let failing: TestDnsServer;
let garbage: TestDnsServer;
let wrongQuestion: TestDnsServer;
let stray: TestDnsServer;
let hangUp: TestDnsServer;
let ipv6: TestDnsServer;

before(async () => {
  dns = await startTestDnsServer({ zone });
  silent = await startTestDnsServer({ zone, behaviour: 'silent' });
  truncating = await startTestDnsServer({ zone, truncateUdp: true });
  slow = await startTestDnsServer({ zone, delayMs: 150 });
  failing = await startTestDnsServer({ zone, rcode: 'SERVFAIL' });
  garbage = await startTestDnsServer({ zone, behaviour: 'garbage' });
  wrongQuestion = await startTestDnsServer({ zone, behaviour: 'wrong-question' });
  stray = await startTestDnsServer({ zone, behaviour: 'stray-then-answer' });
  hangUp = await startTestDnsServer({ zone, behaviour: 'hang-up' });
  ipv6 = await startTestDnsServer({ zone, host: '::1' });
});

after(async () => {
  for (const server of [dns, silent, truncating, slow, failing, garbage, wrongQuestion, stray, hangUp, ipv6])
    await server?.close();
});

/** Open sockets of this process by kind, to prove a run releases what it opened. */
function socketCounts(): string {
  const kinds = process
    .getActiveResourcesInfo()
    .filter((kind) => /UDPWrap|TCPSocketWrap|ConnectWrap/.test(kind));
  return kinds.sort().join(',');
}

/**
 * Socket handles close a turn or two of the event loop after close()/destroy(), so the
 * previous run's socket may still be listed: wait (boundedly) until the list stops changing.
 */
async function quietSocketCounts(): Promise<string> {
  let counts = socketCounts();
  for (let turn = 0, unchanged = 0; turn < 50 && unchanged < 3; turn++) {
    await new Promise((resolve) => setImmediate(resolve));
    const next = socketCounts();
    unchanged = next === counts ? unchanged + 1 : 0;
    counts = next;
  }
  return counts;
}

test('an A query over UDP passes with its phase, peer, rcode, answers and flags', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: dns.address, query: 'shop.example', expect: { answers: ['10.0.0.2', '10.0.0.1'] } },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(typeof result.phases.query, 'number');
  assert.equal(result.phases.connect, undefined, 'UDP has no connect phase');
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: dns.port }]);
  assert.equal(result.details?.server, dns.address);
  assert.equal(result.details?.transport, 'udp');
  assert.equal(result.details?.rcode, 'NOERROR');
  assert.deepEqual(result.details?.answers, ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(result.details?.flags, { aa: true, tc: false, rd: true, ra: false });
  assert.equal(dns.queries.at(-1)?.transport, 'udp');
});

test('AAAA answers compare in canonical form', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: {
      server: dns.address,
      query: 'shop.example',
      recordType: 'AAAA',
      expect: { answers: ['2001:0DB8:0:0::1'] },
    },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(result.details?.answers, ['2001:db8::1']);
});

test('MX answers are "preference exchange." and match with or without the final dot', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: {
      server: dns.address,
      query: 'shop.example',
      recordType: 'MX',
      expect: { answers: ['10 mail.shop.example.', '20 Backup.Shop.Example'] },
    },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(result.details?.answers, ['10 mail.shop.example.', '20 backup.shop.example.']);
});

test('TXT answers join their strings', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: {
      server: dns.address,
      query: 'shop.example',
      recordType: 'TXT',
      expect: {
        answersContain: ['v=spf1 include:_spf.shop.example -all'],
        answerMatches: '^site-verification=',
      },
    },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(result.details?.answers, [
    'v=spf1 include:_spf.shop.example -all',
    'site-verification=abc123',
  ]);
});

test('a CNAME query answers with the alias target', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: {
      server: dns.address,
      query: 'www.shop.example',
      recordType: 'CNAME',
      expect: { answers: ['shop.example.'] },
    },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(result.details?.answers, ['shop.example.']);
});

test('an A query through a CNAME counts only the A records and keeps the chain in details', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: dns.address, query: 'www.shop.example', expect: { answers: ['10.0.0.1', '10.0.0.2'] } },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(result.details?.answerSection, [
    'www.shop.example. 300 CNAME shop.example.',
    'shop.example. 300 A 10.0.0.1',
    'shop.example. 300 A 10.0.0.2',
  ]);
});

test('SRV, SOA, NS and PTR answers have their text forms; PTR takes an IP address', async () => {
  const cases = [
    { recordType: 'SRV', query: '_sip._tcp.shop.example', answer: '10 5 5060 sip.shop.example.' },
    {
      recordType: 'SOA',
      query: 'shop.example',
      answer: 'ns1.shop.example. hostmaster.shop.example. 2024010101 7200 3600 1209600 300',
    },
    { recordType: 'NS', query: 'shop.example', answer: 'ns1.shop.example.' },
    { recordType: 'PTR', query: '10.0.0.1', answer: 'shop.example.' },
    { recordType: 'PTR', query: '2001:db8::1', answer: 'shop.example.' },
  ];
  for (const { recordType, query, answer } of cases) {
    const result = await runCheckFromConfig({
      kind: 'dns',
      dns: { server: dns.address, query, recordType, expect: { answers: [answer] } },
    });
    assert.equal(result.status, 'pass', `${recordType}: ${result.error?.message}`);
    assert.deepEqual(result.details?.answers, [answer]);
  }
  assert.equal(dns.queries.at(-2)?.name, '1.0.0.10.in-addr.arpa');
  assert.match(dns.queries.at(-1)?.name ?? '', /^1\.0\.0\.0\.(0\.){20}8\.b\.d\.0\.1\.0\.0\.2\.ip6\.arpa$/);
});

test('a query over TCP passes with connect and query phases', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: {
      server: dns.address,
      transport: 'tcp',
      query: 'shop.example',
      expect: { answers: ['10.0.0.1', '10.0.0.2'] },
    },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(typeof result.phases.connect, 'number');
  assert.equal(typeof result.phases.query, 'number');
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: dns.port }]);
  assert.equal(result.details?.transport, 'tcp');
  assert.equal(dns.queries.at(-1)?.transport, 'tcp');
});

test('an IPv6 server address in brackets is asked over IPv6', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: ipv6.address, query: 'shop.example' },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(result.peers, [{ ip: '::1', port: ipv6.port }]);
  assert.equal(result.details?.server, `[::1]:${ipv6.port}`);
});

test('NXDOMAIN passes when it is the wanted answer', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: dns.address, query: 'old.shop.example', expect: { rcode: 'NXDOMAIN' } },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(result.details?.rcode, 'NXDOMAIN');
});

test('an unexpected NXDOMAIN fails naming the rcode and the question', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: dns.address, query: 'nope.shop.example' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'DNS_RCODE');
  assert.equal(result.error?.message, 'rcode: expected NOERROR, got NXDOMAIN (A nope.shop.example)');
});

test('a SERVFAIL fails naming the rcode', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: failing.address, query: 'shop.example' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.message, 'rcode: expected NOERROR, got SERVFAIL (A shop.example)');
});

test('an empty answer (NODATA) fails by default and passes when [] is expected', async () => {
  const empty = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: dns.address, query: 'shop.example', recordType: 'SRV' },
  });
  assert.equal(empty.status, 'fail');
  assert.equal(empty.error?.message, 'answers for SRV shop.example: expected at least one, got none');
  const wanted = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: dns.address, query: 'shop.example', recordType: 'SRV', expect: { answers: [] } },
  });
  assert.equal(wanted.status, 'pass', wanted.error?.message);
});

test('answers that differ from the exact set fail with expected and actual', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: dns.address, query: 'shop.example', expect: { answers: ['10.0.0.1'] } },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'ASSERTION');
  assert.equal(
    result.error?.message,
    'answers for A shop.example: expected [10.0.0.1], got [10.0.0.1, 10.0.0.2]',
  );
});

test('answersContain passes on a subset and fails on a missing answer', async () => {
  const subset = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: dns.address, query: 'shop.example', expect: { answersContain: ['10.0.0.2'] } },
  });
  assert.equal(subset.status, 'pass', subset.error?.message);
  const missing = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: dns.address, query: 'shop.example', expect: { answersContain: ['10.0.0.9'] } },
  });
  assert.equal(missing.status, 'fail');
  assert.equal(
    missing.error?.message,
    'answers for A shop.example: expected to include [10.0.0.9], got [10.0.0.1, 10.0.0.2]',
  );
});

test('regular expressions: one answer must match, or all must', async () => {
  const some = await runCheckFromConfig({
    kind: 'dns',
    dns: {
      server: dns.address,
      query: 'shop.example',
      expect: { answerMatches: '\\.2$', allAnswersMatch: '^10\\.0\\.0\\.' },
    },
  });
  assert.equal(some.status, 'pass', some.error?.message);
  const noneMatch = await runCheckFromConfig({
    kind: 'dns',
    dns: {
      server: dns.address,
      query: 'shop.example',
      recordType: 'TXT',
      expect: { answerMatches: '^google-site' },
    },
  });
  assert.equal(noneMatch.status, 'fail');
  assert.equal(
    noneMatch.error?.message,
    'answers for TXT shop.example: expected one matching /^google-site/, got ["v=spf1 include:_spf.shop.example -all", "site-verification=abc123"]',
  );
  const notAll = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: dns.address, query: 'shop.example', expect: { allAnswersMatch: '\\.1$' } },
  });
  assert.equal(notAll.status, 'fail');
  assert.equal(
    notAll.error?.message,
    'answers for A shop.example: expected all matching /\\.1$/, got [10.0.0.1, 10.0.0.2]',
  );
});

test('a server that never answers over UDP times out in the query phase and releases its socket', async () => {
  const baseline = await quietSocketCounts();
  const result = await runCheckFromConfig({
    kind: 'dns',
    timeout: '300ms',
    dns: { server: silent.address, query: 'shop.example' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'timeout');
  assert.equal(result.error?.code, 'DNS_NO_ANSWER');
  assert.equal(result.error?.phase, 'query');
  assert.equal(
    result.error?.message,
    `DNS server ${silent.address} sent no answer to A shop.example within 300 ms`,
  );
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: silent.port }]);
  assert.ok(result.phases.total >= 290 && result.phases.total < 2000, `total ${result.phases.total}`);
  assert.equal(silent.queries.at(-1)?.name, 'shop.example', 'the query did reach the server');
  assert.equal(await quietSocketCounts(), baseline, 'the run released its socket');
});

test('a server that accepts over TCP and never answers times out in the query phase', async () => {
  const baseline = await quietSocketCounts();
  const result = await runCheckFromConfig({
    kind: 'dns',
    timeout: '300ms',
    dns: { server: silent.address, transport: 'tcp', query: 'shop.example' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'timeout');
  assert.equal(result.error?.code, 'DNS_NO_ANSWER');
  assert.equal(result.error?.phase, 'query');
  assert.equal(
    result.error?.message,
    `DNS server ${silent.address} sent no answer to A shop.example within 300 ms over TCP`,
  );
  assert.equal(typeof result.phases.connect, 'number');
  assert.equal(await quietSocketCounts(), baseline, 'the run released its socket');
});

test('a closed TCP port is refused', async () => {
  const port = await closedPort();
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: `127.0.0.1:${port}`, transport: 'tcp', query: 'shop.example' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'refused');
  assert.equal(result.error?.code, 'CONNECT_REFUSED');
  assert.equal(result.error?.phase, 'connect');
  assert.equal(result.error?.message, `connect to 127.0.0.1:${port} refused`);
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port }]);
});

test('a closed UDP port is refused: Linux reports the ICMP port unreachable as ECONNREFUSED', async () => {
  const port = await closedUdpPort();
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: `127.0.0.1:${port}`, query: 'shop.example' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'refused');
  assert.equal(result.error?.code, 'CONNECT_REFUSED');
  assert.equal(result.error?.phase, 'query');
  assert.equal(result.error?.message, `DNS server 127.0.0.1:${port} refused the query (port unreachable)`);
});

test('a truncated UDP answer is retried over TCP', async () => {
  const before = truncating.queries.length;
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: truncating.address, query: 'shop.example', expect: { answers: ['10.0.0.1', '10.0.0.2'] } },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(result.details?.truncatedRetry, true);
  assert.equal(result.details?.transport, 'tcp');
  assert.equal(typeof result.phases.connect, 'number');
  const seen = truncating.queries.slice(before);
  assert.deepEqual(
    seen.map((query) => query.transport),
    ['udp', 'tcp'],
  );
  assert.equal(seen[0].id, seen[1].id, 'the same query, so a capture links both halves');
});

test('without the TCP retry a truncated answer is judged as it came, TC flag in details', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: truncating.address, query: 'shop.example', retryTruncatedOverTcp: false },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.message, 'answers for A shop.example: expected at least one, got none');
  assert.equal((result.details?.flags as { tc: boolean } | undefined)?.tc, true);
});

test('an answer that does not decode is a protocol error', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: garbage.address, query: 'shop.example' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'protocol');
  assert.equal(result.error?.code, 'PROTOCOL');
  assert.match(
    result.error?.message ?? '',
    new RegExp(`^DNS server ${garbage.address} sent a malformed answer of 15 bytes to A shop\\.example: .+`),
  );
});

test('an answer to another question is a protocol error', async () => {
  for (const transport of ['udp', 'tcp']) {
    const result = await runCheckFromConfig({
      kind: 'dns',
      dns: { server: wrongQuestion.address, transport, query: 'shop.example' },
    });
    assert.equal(result.status, 'fail', transport);
    assert.equal(result.error?.class, 'protocol');
    assert.equal(result.error?.code, 'PROTOCOL');
    assert.equal(
      result.error?.message,
      `DNS server ${wrongQuestion.address} answered A other.shop.example when asked A shop.example`,
    );
  }
});

test('over UDP a packet with another id is ignored; over TCP it is a protocol error', async () => {
  const udp = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: stray.address, query: 'shop.example' },
  });
  assert.equal(udp.status, 'pass', udp.error?.message);
  const tcp = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: stray.address, transport: 'tcp', query: 'shop.example' },
  });
  assert.equal(tcp.status, 'fail');
  assert.equal(tcp.error?.class, 'protocol');
  assert.equal(tcp.error?.code, 'PROTOCOL');
  assert.match(tcp.error?.message ?? '', /answered with id \d+, expected \d+ \(A shop\.example\)$/);
});

test('a TCP server that hangs up without answering fails as a reset', async () => {
  const result = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: hangUp.address, transport: 'tcp', query: 'shop.example' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'reset');
  assert.equal(result.error?.code, 'CONNECTION_CLOSED');
  assert.equal(result.error?.phase, 'query');
  assert.equal(
    result.error?.message,
    `DNS server ${hangUp.address} closed the TCP connection without answering A shop.example`,
  );
});

test('slower than the degraded limit is degraded; slower than the limit fails', async () => {
  const degraded = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: slow.address, query: 'shop.example', expect: { degradedResponseTime: '50ms' } },
  });
  assert.equal(degraded.status, 'degraded', degraded.error?.message);
  const failed = await runCheckFromConfig({
    kind: 'dns',
    dns: { server: slow.address, query: 'shop.example', expect: { maxResponseTime: '50ms' } },
  });
  assert.equal(failed.status, 'fail');
  assert.match(
    failed.error?.message ?? '',
    /^response time: expected <= 50 ms, got \d+ ms \(A shop\.example\)$/,
  );
});

test('the RD flag follows recursionDesired', async () => {
  await runCheckFromConfig({
    kind: 'dns',
    dns: { server: dns.address, query: 'shop.example', recursionDesired: false },
  });
  assert.equal(dns.queries.at(-1)?.recursionDesired, false);
  await runCheckFromConfig({ kind: 'dns', dns: { server: dns.address, query: 'shop.example' } });
  assert.equal(dns.queries.at(-1)?.recursionDesired, true);
});

test('config mistakes are reported with their paths, and defaults are filled in', async () => {
  const parsed = await parseConfig(
    {
      locations: { local: {} },
      checks: [{ id: 'd', kind: 'dns', dns: { server: '10.0.0.53', query: 'shop.example' } }],
    },
    '/tmp/test.yaml',
    {},
  );
  const check = (parsed.checks[0] as unknown as { dns: Record<string, unknown> }).dns;
  assert.equal(check.transport, 'udp');
  assert.equal(check.recordType, 'A');
  assert.equal(check.recursionDesired, true);
  assert.equal(check.retryTruncatedOverTcp, true);
  assert.deepEqual(check.expect, { rcode: 'NOERROR' });

  const mistakes = {
    locations: { local: {} },
    checks: [
      {
        id: 'd',
        kind: 'dns',
        dns: {
          server: 'ns1.example',
          query: 'shop example',
          recordType: 'MX',
          expect: { answers: ['mail.shop.example'], maxResponseTime: '1s', degradedResponseTime: '2s' },
        },
      },
      {
        id: 'e',
        kind: 'dns',
        dns: { server: '10.0.0.53:99999', query: 'shop.example', expect: { answers: ['10.0.0.300'] } },
      },
    ],
  };
  await assert.rejects(parseConfig(mistakes, '/tmp/test.yaml', {}), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    const lines = error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    assert.deepEqual(lines, [
      'checks[0].dns.expect.answers[0]: MX answers are written like "10 mail.shop.example.", got "mail.shop.example"',
      'checks[0].dns.expect.degradedResponseTime: must be less than maxResponseTime (1000 ms), got 2000 ms',
      'checks[0].dns.query: expected a DNS name such as "shop.example" (labels of 1–63 characters, 253 in all), got "shop example"',
      'checks[0].dns.server: expected an IP address with an optional port, such as "10.0.0.53", "10.0.0.53:5353" or "[2001:db8::53]:53" (the exact server to ask, not a host name), got "ns1.example"',
      'checks[1].dns.expect.answers[0]: A answers are written like "10.0.0.1", got "10.0.0.300"',
      'checks[1].dns.server: expected an IP address with an optional port, such as "10.0.0.53", "10.0.0.53:5353" or "[2001:db8::53]:53" (the exact server to ask, not a host name), got "10.0.0.53:99999"',
    ]);
    return true;
  });
});
