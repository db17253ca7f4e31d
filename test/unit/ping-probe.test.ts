import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  createPingProbe,
  type PingCheck,
  parsePingOutput,
  pingCheckSchema,
  pingVerdict,
} from '../../src/checks/ping.ts';
import type { ProbeContext } from '../../src/checks/probe.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { SecretResolver } from '../../src/config/secret-resolver.ts';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { descendants } from '../helpers/child-processes.ts';

// Outputs recorded from iputils-ping 20221126 (LC_ALL=C, -n), some inside a network
// namespace with iptables rules, so these tests need neither root nor a dead host.
const RECORDED = {
  ok: `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.055 ms
64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.041 ms
64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=0.042 ms

--- 127.0.0.1 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 406ms
rtt min/avg/max/mdev = 0.041/0.046/0.055/0.006 ms
`,
  halfLost: `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.043 ms
64 bytes from 127.0.0.1: icmp_seq=4 ttl=64 time=0.046 ms

--- 127.0.0.1 ping statistics ---
4 packets transmitted, 2 received, 50% packet loss, time 611ms
rtt min/avg/max/mdev = 0.043/0.044/0.046/0.001 ms
`,
  allLost: `PING 10.9.9.3 (10.9.9.3) 56(84) bytes of data.

--- 10.9.9.3 ping statistics ---
3 packets transmitted, 0 received, 100% packet loss, time 406ms

`,
  hostUnreachable: `PING 10.9.9.2 (10.9.9.2) 56(84) bytes of data.
From 10.9.9.1 icmp_seq=1 Destination Host Unreachable
From 10.9.9.1 icmp_seq=2 Destination Host Unreachable
From 10.9.9.1 icmp_seq=3 Destination Host Unreachable

--- 10.9.9.2 ping statistics ---
3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 411ms
pipe 3
`,
  slow: `PING gw.test (10.0.0.1) 56(84) bytes of data.
64 bytes from 10.0.0.1: icmp_seq=1 ttl=58 time=240.1 ms
64 bytes from 10.0.0.1: icmp_seq=2 ttl=58 time=260.5 ms

--- gw.test ping statistics ---
2 packets transmitted, 2 received, 0% packet loss, time 201ms
rtt min/avg/max/mdev = 240.100/250.300/260.500/10.200 ms
`,
  ipv6: `PING ::1(::1) 56 data bytes
64 bytes from ::1: icmp_seq=1 ttl=64 time=0.039 ms
64 bytes from ::1: icmp_seq=2 ttl=64 time=0.046 ms

--- ::1 ping statistics ---
2 packets transmitted, 2 received, 0% packet loss, time 202ms
rtt min/avg/max/mdev = 0.039/0.042/0.046/0.003 ms
`,
  firewalledStdout: `PING 127.0.0.2 (127.0.0.2) 56(84) bytes of data.
From 127.0.0.2 icmp_seq=1 Destination Port Unreachable
From 127.0.0.2 icmp_seq=2 Destination Port Unreachable

--- 127.0.0.2 ping statistics ---
2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 205ms
`,
  firewalledStderr: 'ping: sendmsg: Operation not permitted\nping: sendmsg: Operation not permitted\n',
  noSocketStderr:
    'ping: socktype: SOCK_RAW\nping: socket: Operation not permitted\nping: => missing cap_net_raw+p capability or setuid?\n',
  unknownNameStderr: 'ping: no-such-host.invalid: Name or service not known\n',
  noResolverStderr: 'ping: no-such-host.invalid: Temporary failure in name resolution\n',
  noRouteStderr: 'ping: connect: Network is unreachable\n',
};

let scratch: string;

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'pathwatch-ping-'));
});

after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A ping check of 127.0.0.1; `fields` go into its ping block. */
function check(fields: Record<string, unknown> = {}): PingCheck {
  return pingCheckSchema.parse({ id: 'ping-test', kind: 'ping', ping: { host: '127.0.0.1', ...fields } });
}

function verdict(fields: Record<string, unknown>, stdout: string, stderr = '', exitCode = 0) {
  return pingVerdict(
    check(fields).ping,
    { output: parsePingOutput(stdout, stderr), exitCode, aborted: false },
    { binary: 'ping', phase: 'echo', timeoutMs: 10_000 },
  );
}

function contextFor(timeoutMs: number, signal = new AbortController().signal): ProbeContext {
  return {
    signal,
    deadline: Date.now() + timeoutMs,
    timeoutMs,
    location: 'local',
    secrets: new SecretResolver({}),
    configDir: scratch,
  };
}

/** A stand-in ping that prints what a real one printed, for failures this host cannot produce. */
function fakePing(name: string, stderr: string, exitCode: number): string {
  const path = join(scratch, name);
  writeFileSync(path, `#!/bin/sh\nprintf '%s' '${stderr.replaceAll("'", "'\\''")}' >&2\nexit ${exitCode}\n`);
  chmodSync(path, 0o755);
  return path;
}

function pingChildren(): number[] {
  return descendants()
    .filter((info) => info.name === 'ping')
    .map((info) => info.pid);
}

test('ping 127.0.0.1 passes with round-trip times, and the address is the peer', async () => {
  const result = await runCheckFromConfig({ kind: 'ping', ping: { host: '127.0.0.1' } });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(result.details?.transmitted, 3);
  assert.equal(result.details?.received, 3);
  assert.equal(result.details?.lossPercent, 0);
  const rtt = result.details?.rtt as { min: number; avg: number; max: number; mdev: number };
  for (const key of ['min', 'avg', 'max', 'mdev'] as const)
    assert.equal(typeof rtt?.[key], 'number', `rtt.${key}: expected a number, got ${rtt?.[key]}`);
  assert.ok(rtt.min <= rtt.avg && rtt.avg <= rtt.max, `rtt order: ${JSON.stringify(rtt)}`);
  assert.equal((result.details?.replies as unknown[] | undefined)?.length, 3);
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: 0 }]);
  assert.equal(typeof result.phases.echo, 'number');
  assert.equal(result.phases.dns, undefined, 'an IP literal needs no dns lookup');
  assert.match(String(result.details?.command), /^ping -n -c 3 -i 0\.2 -W [\d.]+ -- 127\.0\.0\.1$/);
});

test('ping ::1 passes over IPv6 loopback', async (t) => {
  const hasLoopback6 = Object.values(networkInterfaces()).some((addresses) =>
    addresses?.some((address) => address.internal && address.address === '::1'),
  );
  if (!hasLoopback6) {
    t.skip('this machine has no ::1 on its loopback interface');
    return;
  }
  const result = await runCheckFromConfig({ kind: 'ping', ping: { host: '::1', ipVersion: 6, count: 2 } });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(result.peers, [{ ip: '::1', port: 0 }]);
  assert.equal(result.details?.received, 2);
});

test('a name from /etc/hosts is resolved in a dns phase of its own', async (t) => {
  // Only a name the hosts file answers: a real DNS query would leave this machine.
  const hosts = readFileSync('/etc/hosts', 'utf8');
  if (!/^\s*127\.0\.0\.1\s+(?:.*\s)?localhost(\s|$)/m.test(hosts)) {
    t.skip('/etc/hosts does not map localhost to 127.0.0.1');
    return;
  }
  const result = await runCheckFromConfig({
    kind: 'ping',
    ping: { host: 'localhost', ipVersion: 4, count: 1 },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(result.details?.address, '127.0.0.1');
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: 0 }]);
  assert.equal(typeof result.phases.dns, 'number', `dns phase: expected a number, got ${result.phases.dns}`);
});

test('at the deadline ping is stopped, reports what it had, and leaves no process behind', async () => {
  const controller = new AbortController();
  const running = createPingProbe().run(check({ count: 100 }), contextFor(60_000, controller.signal));
  // The caller's deadline is a timer by nature; 300 ms lets ping send a request or two.
  const deadline = setTimeout(() => controller.abort(new Error('timeout')), 300);
  const result = await running;
  clearTimeout(deadline);
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'timeout');
  assert.equal(result.error?.code, 'TIMEOUT');
  assert.match(
    result.error?.message ?? '',
    /^ping 127\.0\.0\.1 stopped at the deadline of 60000 ms after \d+ echo requests, \d+ replies$/,
  );
  assert.deepEqual(pingChildren(), [], 'no ping process may outlive the run');
});

test('a missing ping binary is an internal error that says so', async () => {
  const result = await createPingProbe({ binary: join(scratch, 'no-such-ping') }).run(
    check(),
    contextFor(5000),
  );
  assert.equal(result.status, 'error');
  assert.equal(result.error?.class, 'internal');
  assert.equal(result.error?.code, 'PING_UNAVAILABLE');
  assert.equal(
    result.error?.message,
    `ping binary "${join(scratch, 'no-such-ping')}" not found (spawn ${join(scratch, 'no-such-ping')} ENOENT): install iputils-ping`,
  );
});

test('ping without permission to open an ICMP socket is an internal error quoting ping', async () => {
  const binary = fakePing('ping-no-socket', RECORDED.noSocketStderr, 2);
  const result = await createPingProbe({ binary }).run(check(), contextFor(5000));
  assert.equal(result.status, 'error');
  assert.equal(result.error?.class, 'internal');
  assert.equal(result.error?.code, 'PING_UNAVAILABLE');
  assert.equal(
    result.error?.message,
    'ping is not permitted to open an ICMP socket on this host: ping: socktype: SOCK_RAW; ping: socket: Operation not permitted; ping: => missing cap_net_raw+p capability or setuid? (run the worker as root, give the ping binary cap_net_raw, or allow its group in net.ipv4.ping_group_range)',
  );
});

test('a timeout too short for count × interval is a config error before ping runs', async () => {
  const result = await runCheckFromConfig({
    kind: 'ping',
    timeout: '2s',
    ping: { host: '127.0.0.1', count: 10, interval: '1s' },
  });
  assert.equal(result.status, 'error');
  assert.equal(result.error?.class, 'config');
  assert.equal(result.error?.code, 'CONFIG');
  assert.equal(
    result.error?.message,
    'ping 127.0.0.1: 10 requests every 1000 ms take 9000 ms, leaving no time for replies within the 2000 ms timeout: raise timeout or lower count or interval',
  );
});

test('the output parser reads replies, statistics and round-trip times', () => {
  const ok = parsePingOutput(RECORDED.ok, '');
  assert.equal(ok.address, '127.0.0.1');
  assert.deepEqual([ok.transmitted, ok.received], [3, 3]);
  assert.deepEqual(ok.rtt, { min: 0.041, avg: 0.046, max: 0.055, mdev: 0.006 });
  assert.deepEqual(ok.replies[0], { seq: 1, ttl: 64, ms: 0.055 });
  const v6 = parsePingOutput(RECORDED.ipv6, '');
  assert.equal(v6.address, '::1');
  assert.equal(v6.replies.length, 2);
  const unreachable = parsePingOutput(RECORDED.hostUnreachable, '');
  assert.deepEqual([unreachable.transmitted, unreachable.received, unreachable.errors], [3, 0, 3]);
  assert.equal(unreachable.icmpErrors.length, 3);
  assert.equal(unreachable.rtt, undefined);
});

test('verdicts on recorded failures: class and one-line message', () => {
  const cases: Array<{
    name: string;
    fields?: Record<string, unknown>;
    stdout?: string;
    stderr?: string;
    exit?: number;
    status: string;
    class?: string;
    message?: string;
  }> = [
    { name: 'all replies', stdout: RECORDED.ok, status: 'pass' },
    {
      name: 'no reply at all',
      fields: { host: '10.9.9.3' },
      stdout: RECORDED.allLost,
      exit: 1,
      status: 'fail',
      class: 'timeout',
      message: 'no echo reply from 10.9.9.3 (3 sent, 0 received, 100% loss)',
    },
    {
      name: 'destination host unreachable',
      fields: { host: '10.9.9.2' },
      stdout: RECORDED.hostUnreachable,
      exit: 1,
      status: 'fail',
      class: 'unreachable',
      message:
        '10.9.9.2 unreachable: From 10.9.9.1 icmp_seq=1 Destination Host Unreachable (3 sent, 0 received)',
    },
    {
      name: 'half the replies lost, within maxLoss 50: degraded',
      stdout: RECORDED.halfLost,
      status: 'degraded',
    },
    {
      name: 'half the replies lost, over maxLoss 25',
      fields: { maxLoss: 25 },
      stdout: RECORDED.halfLost,
      status: 'fail',
      class: 'assertion',
      message: 'ping 127.0.0.1: packet loss at most 25%: expected <= 25%, got 50% (4 sent, 2 received)',
    },
    {
      name: 'half lost, degradedLoss 50 tolerates it',
      fields: { degradedLoss: 50 },
      stdout: RECORDED.halfLost,
      status: 'pass',
    },
    {
      name: 'average rtt over maxRtt',
      fields: { host: 'gw.test', maxRtt: '200ms' },
      stdout: RECORDED.slow,
      status: 'fail',
      class: 'assertion',
      message:
        'ping gw.test (10.0.0.1): average rtt at most 200 ms: expected <= 200 ms, got 250.3 ms (2 sent, 2 received)',
    },
    {
      name: 'average rtt over degradedRtt',
      fields: { host: 'gw.test', degradedRtt: '100ms' },
      stdout: RECORDED.slow,
      status: 'degraded',
    },
    {
      name: 'local firewall',
      fields: { host: '127.0.0.2' },
      stdout: RECORDED.firewalledStdout,
      stderr: RECORDED.firewalledStderr,
      exit: 1,
      status: 'error',
      class: 'internal',
      message:
        'this host refused to send ICMP to 127.0.0.2 (ping: sendmsg: Operation not permitted): a local firewall rule blocks it',
    },
    {
      name: 'unknown name',
      fields: { host: 'no-such-host.invalid' },
      stderr: RECORDED.unknownNameStderr,
      exit: 2,
      status: 'fail',
      class: 'dns',
      message: 'dns lookup of no-such-host.invalid found no address (Name or service not known)',
    },
    {
      name: 'resolver unreachable',
      fields: { host: 'no-such-host.invalid' },
      stderr: RECORDED.noResolverStderr,
      exit: 2,
      status: 'fail',
      class: 'dns',
      message: 'dns lookup of no-such-host.invalid failed temporarily (Temporary failure in name resolution)',
    },
    {
      name: 'no route',
      fields: { host: '10.8.0.2' },
      stderr: RECORDED.noRouteStderr,
      exit: 2,
      status: 'fail',
      class: 'unreachable',
      message: 'no route to 10.8.0.2 from this host (ping: connect: Network is unreachable)',
    },
    {
      name: 'unrecognised failure',
      stderr: 'ping: something new\n',
      exit: 2,
      status: 'error',
      class: 'internal',
      message: 'ping 127.0.0.1 exited with code 2 without statistics: ping: something new',
    },
  ];
  for (const entry of cases) {
    const outcome = verdict(entry.fields ?? {}, entry.stdout ?? '', entry.stderr ?? '', entry.exit ?? 0);
    assert.equal(
      outcome.status,
      entry.status,
      `${entry.name}: expected status ${entry.status}, got ${outcome.status} (${outcome.error?.message})`,
    );
    assert.equal(
      outcome.error?.class,
      entry.class,
      `${entry.name}: expected class ${entry.class}, got ${outcome.error?.class}`,
    );
    assert.equal(outcome.error?.message, entry.message, `${entry.name}: message`);
  }
});

test('config mistakes are reported with their path', async () => {
  const problems = async (fields: Record<string, unknown>): Promise<string[]> => {
    try {
      await parseConfig(
        { locations: { local: {} }, checks: [{ id: 'p', kind: 'ping', ping: fields }] },
        '/tmp/t.yaml',
        {},
      );
    } catch (error) {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
      return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    }
    return [];
  };
  assert.deepEqual(await problems({ host: '-f' }), [
    'checks[0].ping.host: expected a host name or IP address such as "10.0.0.1", got "-f"',
  ]);
  assert.deepEqual(await problems({ host: '::1', ipVersion: 4 }), [
    'checks[0].ping.ipVersion: host ::1 is an IPv6 address, but ipVersion is 4',
  ]);
  assert.deepEqual(await problems({ host: '127.0.0.1', maxLoss: 100 }), [
    'checks[0].ping.maxLoss: must be below 100 (no reply at all always fails), got 100',
  ]);
  assert.deepEqual(await problems({ host: '127.0.0.1', interval: '1ms' }), [
    'checks[0].ping.interval: must be at least 10ms, got "1ms"',
  ]);
});

test('ping.interval is the gap between echo requests; the check is scheduled at the top-level interval', async () => {
  const config = await parseConfig(
    {
      locations: { local: {} },
      defaults: { interval: '5m' },
      checks: [
        { id: 'gap-only', kind: 'ping', ping: { host: '127.0.0.1', interval: '300ms' } },
        { id: 'both', kind: 'ping', interval: '30s', ping: { host: '127.0.0.1' } },
      ],
    },
    '/tmp/t.yaml',
    {},
  );
  const [gapOnly, both] = config.checks as unknown as Array<PingCheck & { interval: number }>;
  assert.equal(gapOnly.interval, 300_000, 'scheduled by defaults.interval, not every 300 ms');
  assert.equal(gapOnly.ping.interval, 300);
  assert.equal(both.interval, 30_000);
  assert.equal(both.ping.interval, 200, 'the echo gap keeps its own default');
});

test('a ping check in the old shape is told where its interval and host went', async () => {
  await assert.rejects(
    parseConfig(
      {
        locations: { local: {} },
        checks: [{ id: 'p', kind: 'ping', host: '127.0.0.1', interval: '200ms', count: 5 }],
      },
      '/tmp/t.yaml',
      {},
    ),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(
        error.issues.map((issue) => `${issue.path}: ${issue.message}`),
        [
          'checks[0].count: moved: write it as checks[0].ping.count',
          'checks[0].host: moved: write it as checks[0].ping.host',
          'checks[0].interval: moved: write it as checks[0].ping.interval',
        ],
      );
      return true;
    },
  );
});
