import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/network-namespace.ts';

/**
 * A real "no route" for every kind: a network namespace whose firewall answers with ICMP
 * host unreachable (port 81, UDP 53, echo requests) or network unreachable (port 82), which
 * the host's kernel turns into EHOSTUNREACH / ENETUNREACH for the probe's socket.
 */
const HOST_UNREACHABLE_PORT = 81;
const NET_UNREACHABLE_PORT = 82;

let namespace: TestNamespace | string;

before(() => {
  namespace = createTestNamespace();
  if (typeof namespace === 'string') return;
  // Its kernel would otherwise rate-limit the ICMP answers (about one a second per peer), and a
  // single UDP query whose answer is suppressed just goes unanswered.
  namespace.exec(['sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0']);
  const reject = (rule: string[], kind: string) =>
    (namespace as TestNamespace).exec([
      'iptables',
      '-A',
      'INPUT',
      ...rule,
      '-j',
      'REJECT',
      '--reject-with',
      kind,
    ]);
  reject(['-p', 'tcp', '--dport', String(HOST_UNREACHABLE_PORT)], 'icmp-host-unreachable');
  reject(['-p', 'tcp', '--dport', String(NET_UNREACHABLE_PORT)], 'icmp-net-unreachable');
  // Linux hands a UDP socket only the "hard" ICMP errors: host unreachable (code 1) is soft
  // and the query just goes unanswered, host prohibited (code 10, a firewall's usual REJECT)
  // arrives as EHOSTUNREACH.
  reject(['-p', 'udp', '--dport', '53'], 'icmp-host-prohibited');
  reject(['-p', 'icmp', '--icmp-type', 'echo-request'], 'icmp-host-unreachable');
});

after(() => {
  if (typeof namespace !== 'string') namespace.remove();
});

/** The namespace's address, or undefined after marking the test skipped. */
function target(t: { skip(message: string): void }): string | undefined {
  if (typeof namespace === 'string') {
    t.skip(namespace);
    return undefined;
  }
  return namespace.namespaceAddress;
}

const host = HOST_UNREACHABLE_PORT;
const kinds: Array<[string, (ip: string) => Record<string, unknown>]> = [
  ['http', (ip) => ({ kind: 'http', http: { url: `http://${ip}:${host}/` } })],
  ['crawl', (ip) => ({ kind: 'crawl', crawl: { url: `http://${ip}:${host}/` } })],
  ['tcp', (ip) => ({ kind: 'tcp', tcp: { host: ip, port: host } })],
  ['tls', (ip) => ({ kind: 'tls', tls: { host: ip, port: host } })],
  ['smtp', (ip) => ({ kind: 'smtp', smtp: { host: ip, port: host, tls: 'none' } })],
  ['ftp', (ip) => ({ kind: 'ftp', ftp: { host: ip, port: host } })],
  [
    'dns over tcp',
    (ip) => ({ kind: 'dns', dns: { server: `${ip}:${host}`, transport: 'tcp', query: 'shop.example' } }),
  ],
];

for (const [name, check] of kinds) {
  test(`${name}: no route to the host is class unreachable, code UNREACHABLE`, async (t) => {
    const ip = target(t);
    if (!ip) return;
    const result = await runCheckFromConfig({ timeout: '3s', ...check(ip) });
    assert.equal(result.status, 'fail');
    assert.equal(result.error?.class, 'unreachable', result.error?.message);
    assert.equal(result.error?.code, 'UNREACHABLE');
    assert.match(result.error?.message ?? '', /no route to the host \(EHOSTUNREACH\)/);
  });
}

test('dns over udp: an ICMP host prohibited for the query is class unreachable', async (t) => {
  const ip = target(t);
  if (!ip) return;
  const result = await runCheckFromConfig({
    timeout: '3s',
    kind: 'dns',
    dns: { server: ip, query: 'shop.example' },
  });
  assert.equal(result.error?.class, 'unreachable', result.error?.message);
  assert.equal(result.error?.code, 'UNREACHABLE');
  assert.equal(
    result.error?.message,
    `DNS server ${ip}:53 is unreachable: no route to the host (EHOSTUNREACH)`,
  );
});

test('no route to the network (ENETUNREACH) is class unreachable too', async (t) => {
  const ip = target(t);
  if (!ip) return;
  const result = await runCheckFromConfig({
    timeout: '3s',
    kind: 'tcp',
    tcp: { host: ip, port: NET_UNREACHABLE_PORT },
  });
  assert.equal(result.error?.class, 'unreachable', result.error?.message);
  assert.equal(result.error?.code, 'UNREACHABLE');
  assert.match(result.error?.message ?? '', /no route to the network \(ENETUNREACH\)/);
});

test('ping: ICMP host unreachable answering the echo requests is class unreachable', async (t) => {
  const ip = target(t);
  if (!ip) return;
  const result = await runCheckFromConfig({ timeout: '3s', kind: 'ping', ping: { host: ip, count: 2 } });
  assert.equal(result.error?.class, 'unreachable', result.error?.message);
  assert.equal(result.error?.code, 'UNREACHABLE');
});
