import assert from 'node:assert/strict';
import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { analyzeCapture } from '../../capture/analyze-capture.ts';
import type { CaptureAnalysis } from '../../capture/capture-analysis.ts';
import { checkCapturePermission } from '../../capture/capture-permission.ts';
import { formatAnalysis } from '../../capture/format-analysis.ts';
import { runScopeOf } from '../../capture/run-scope.ts';
import { sliceWindow, waitForWindow } from '../../capture/slice-window.ts';
import { TcpdumpRing } from '../../capture/tcpdump-ring.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { slotOutcomeElsewhere } from '../../src/results/slot-outcome-elsewhere.ts';
import { createNetnsPair, type NetnsPair } from '../helpers/capture-netns.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * Two locations, each a probe host in its own network namespace with its own path to the
 * target, each with a capture ring. The target address 198.18.0.2 is a router namespace that
 * forwards (DNAT) to the service in a backend namespace: faults are FORWARD rules there, so a
 * SYN-ACK can be held back without the service's own retransmission failing locally (an
 * OUTPUT drop on the service host makes Linux discard the half-open connection instead). Real faults (iptables in the
 * target's or the probe host's namespace) are applied slot by slot; every failed run is
 * sliced with the production window (10 s before: earlier runs' flows are in it) and
 * analysed as the capture agent does. Each run's verdict and diagnosis must name its cause.
 */

const LOCATIONS = ['inside', 'outside'] as const;
type Location = (typeof LOCATIONS)[number];
const INTERVAL = 60_000;
const TARGET = '198.18.0.2';
const BACKEND = '198.18.1.2';
const prefix = uniquePrefix('capdiag');
const CONFIG = {
  locations: { inside: { controlCheck: 'gateway' }, outside: { controlCheck: 'gateway' } },
  checks: [
    {
      id: 'shop',
      kind: 'tcp',
      timeout: '2s',
      interval: '60s',
      retries: 0,
      tcp: { host: TARGET, port: 8080 },
    },
    {
      id: 'gateway',
      kind: 'tcp',
      timeout: '2s',
      interval: '60s',
      retries: 0,
      tcp: { host: TARGET, port: 9090 },
    },
  ],
  redis: { prefix },
};

/** Accepts on 8080 (the shop) and 9090 (the gateway the control check dials). */
const SERVER_SCRIPT = `
const net = require('node:net');
let up = 0;
for (const port of [8080, 9090]) net.createServer((socket) => socket.on('error', () => {})).listen(port, '${BACKEND}', () => { if (++up === 2) console.log('listening'); });
`;

interface Site {
  net: NetnsPair;
  backend: string;
  ring: TcpdumpRing;
  server: ChildProcess;
  probe: ChildProcess;
  waiting: Map<string, (result: RunResult) => void>;
}

let unavailable: string | undefined;
let dir: string;
const sites = new Map<Location, Site>();
let redis: Redis | undefined;
let recorder: ResultsRecorder;
const stopHeartbeats: Array<() => Promise<void>> = [];
let slot = 0;

function firstLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split('\n').find((candidate) => pattern.test(candidate));
      if (line) {
        child.stdout!.off('data', onData);
        resolve(line);
      }
    };
    child.stdout!.on('data', onData);
    child.once('close', () => reject(new Error(`exited before ${pattern}: ${text}`)));
  });
}

const ip = (...args: string[]) => promisify(execFile)('ip', args, { timeout: 10_000 });

async function startSite(location: Location): Promise<void> {
  const net = await createNetnsPair();
  const id = randomBytes(3).toString('hex');
  const backend = `pwcap-b-${id}`;
  const site: Partial<Site> = { net, backend, waiting: new Map() };
  sites.set(location, site as Site);
  await ip('netns', 'add', backend);
  await ip(
    'link',
    'add',
    `pwr${id}`,
    'netns',
    net.server,
    'type',
    'veth',
    'peer',
    'name',
    `pwb${id}`,
    'netns',
    backend,
  );
  await ip('-n', net.server, 'addr', 'add', '198.18.1.1/30', 'dev', `pwr${id}`);
  await ip('-n', backend, 'addr', 'add', `${BACKEND}/30`, 'dev', `pwb${id}`);
  await ip('-n', net.server, 'link', 'set', `pwr${id}`, 'up');
  await ip('-n', backend, 'link', 'set', `pwb${id}`, 'up');
  await ip('-n', backend, 'link', 'set', 'lo', 'up');
  await ip('-n', backend, 'route', 'add', 'default', 'via', '198.18.1.1');
  await net.exec(net.server, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  await net.exec(net.server, [
    'iptables',
    '-t',
    'nat',
    '-A',
    'PREROUTING',
    '-d',
    TARGET,
    '-p',
    'tcp',
    '-j',
    'DNAT',
    '--to-destination',
    BACKEND,
  ]);
  site.server = net.spawnIn(backend, [process.execPath, '-e', SERVER_SCRIPT]);
  await firstLine(site.server, /listening/);
  site.ring = new TcpdumpRing({
    dir: join(dir, location),
    netns: net.client,
    interface: net.clientIf,
    filter: '',
    ringSize: 4_000_000,
    fileSize: 1_000_000,
    maxAge: 600_000,
    snaplen: 262_144,
    bufferSize: 4 * 1024 * 1024,
  });
  await site.ring.start();
  const probe = net.spawnIn(net.client, [
    process.execPath,
    '--import',
    'tsx',
    join(import.meta.dirname, '..', 'helpers', 'netns-probe-host.ts'),
  ]);
  site.probe = probe;
  await firstLine(probe, /"ready"/);
  let buffered = '';
  probe.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{"runId"')) continue;
      const result = JSON.parse(line) as RunResult;
      site.waiting!.get(result.runId)?.(result);
    }
  });
}

before(async () => {
  try {
    await checkCapturePermission();
  } catch (error) {
    unavailable = (error as Error).message;
    return;
  }
  dir = await mkdtemp(join(tmpdir(), 'pwcap-diag-'));
  try {
    for (const location of LOCATIONS) await startSite(location);
  } catch (error) {
    unavailable = `cannot set up namespaces with capture: ${(error as Error).message.split('\n')[0]}`;
    return;
  }
  redis = createRedisConnection(SHARED_REDIS_URL);
  recorder = new ResultsRecorder(redis, await parseConfig(CONFIG, '/tmp/capture-diagnosis.yaml'));
  for (const location of LOCATIONS) stopHeartbeats.push(recorder.workers.start(location));
});

after(async () => {
  for (const stop of stopHeartbeats) await stop();
  for (const site of sites.values()) {
    site.probe?.kill('SIGKILL');
    site.server?.kill('SIGKILL');
    await site.ring?.stop();
    await site.net.cleanup();
    await ip('netns', 'del', site.backend).catch(() => {});
  }
  if (redis) {
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

function probe(location: Location, checkId: string, scheduledAt: number): Promise<RunResult> {
  const site = sites.get(location)!;
  const runId = `${checkId}-${location}-${scheduledAt}`;
  return new Promise((resolve) => {
    site.waiting.set(runId, resolve);
    site.probe.stdin!.write(`${JSON.stringify({ config: CONFIG, checkId, location, runId, scheduledAt })}\n`);
  });
}

/** The capture agent's slice (10 s before the run, a little after) and its analysis of the run. */
async function diagnose(result: RunResult): Promise<CaptureAnalysis> {
  const site = sites.get(result.location as Location)!;
  // Production keeps 5 s after a run; 1.5 s is enough for a SYN-ACK that comes 1 s late.
  const to = result.finishedAt + 1500;
  assert.ok((await waitForWindow(site.ring.dir, to, 5000)).ready);
  const file = join(dir, `${result.runId}.pcap`);
  await sliceWindow({
    ringDir: site.ring.dir,
    from: result.startedAt - 10_000,
    to,
    peers: result.peers,
    includeDns: true,
    outputPath: file,
  });
  const elsewhere = await slotOutcomeElsewhere(recorder.runs, result, { waitMs: 0 });
  return analyzeCapture(file, runScopeOf(result, elsewhere));
}

interface SlotOutcome {
  verdict: string;
  runs: Record<Location, RunResult>;
  analyses: Partial<Record<Location, CaptureAnalysis>>;
}

/** One schedule slot at both locations: control check and shop, recorded, verdict, diagnoses. */
async function runSlot(during?: (startedAt: number) => Promise<void>): Promise<SlotOutcome> {
  slot += 1;
  const scheduledAt = slot * INTERVAL;
  const started = Date.now();
  const pending = LOCATIONS.map(async (location) => {
    const [shop, gateway] = await Promise.all([
      probe(location, 'shop', scheduledAt),
      probe(location, 'gateway', scheduledAt),
    ]);
    return { location, shop, gateway };
  });
  await during?.(started);
  const done = await Promise.all(pending);
  const policy = { downAfter: 1, upAfter: 1 };
  for (const { gateway } of done) {
    await recorder.record(gateway, { counted: true, policy, locations: [...LOCATIONS] });
  }
  for (const { shop } of done)
    await recorder.record(shop, { counted: true, policy, locations: [...LOCATIONS] });
  const verdict = await recorder.verdict('shop', [...LOCATIONS]);
  const runs = Object.fromEntries(done.map(({ location, shop }) => [location, shop])) as Record<
    Location,
    RunResult
  >;
  const analyses: SlotOutcome['analyses'] = {};
  await Promise.all(
    done
      .filter(({ shop }) => shop.status === 'fail')
      .map(async ({ location, shop }) => {
        analyses[location] = await diagnose(shop);
      }),
  );
  for (const [location, analysis] of Object.entries(analyses))
    console.log(`slot ${slot} ${location}: ${verdict.verdict} | ${analysis.diagnosis}`);
  return { verdict: verdict.verdict, runs, analyses };
}

const inTarget = (location: Location, rule: string[]) =>
  sites.get(location)!.net.exec(sites.get(location)!.net.server, ['iptables', ...rule]);
const inProbeHost = (location: Location, rule: string[]) =>
  sites.get(location)!.net.exec(sites.get(location)!.net.client, ['iptables', ...rule]);
const SHOP_IN = ['FORWARD', '-p', 'tcp', '--dport', '8080'];
const SYNACK_OUT = [
  'FORWARD',
  '-p',
  'tcp',
  '--sport',
  '8080',
  '--tcp-flags',
  'SYN,ACK',
  'SYN,ACK',
  '-j',
  'DROP',
];
const PROBE_OUT = ['OUTPUT', '-d', TARGET];

test('each run of a slot gets the verdict and the diagnosis of its own fault', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const testStarted = Date.now();

  const healthy = await runSlot();
  assert.equal(healthy.verdict, 'ok');

  // A blackhole at the target: every location's SYNs go unanswered alike.
  for (const location of LOCATIONS) await inTarget(location, ['-A', ...SHOP_IN, '-j', 'DROP']);
  const blackhole = await runSlot();
  assert.equal(blackhole.verdict, 'service');
  for (const location of LOCATIONS) {
    const analysis = blackhole.analyses[location]!;
    assert.equal(analysis.verdict, 'dropped_at_target', `${location}: ${analysis.diagnosis}`);
    assert.match(
      analysis.diagnosis,
      /^\d SYNs to 198\.18\.0\.2:8080 got no answer: every location fails alike/,
    );
  }

  // The target stays dark only from inside; in the next slot, inside's path rejects instead.
  // Both runs' slices hold the earlier runs' flows (10 s before): each names its own fault.
  await inTarget('outside', ['-D', ...SHOP_IN, '-j', 'DROP']);
  const insideDrop = await runSlot();
  assert.equal(insideDrop.verdict, 'inside-path');
  assert.match(
    insideDrop.analyses.inside!.diagnosis,
    /got no answer: packets are dropped on the path from this location \(other locations reach the target\)$/,
  );
  await inTarget('inside', ['-D', ...SHOP_IN, '-j', 'DROP']);
  await inTarget('inside', ['-A', ...SHOP_IN, '-j', 'REJECT']);
  const insideReject = await runSlot();
  assert.equal(insideReject.runs.inside.error?.class, 'refused');
  assert.equal(insideReject.verdict, 'inside-path');
  const rejected = insideReject.analyses.inside!;
  assert.equal(rejected.verdict, 'refused', rejected.diagnosis);
  assert.match(
    rejected.diagnosis,
    /^server 198\.18\.0\.2:8080 refused the connection \(ICMP port unreachable/,
  );
  assert.ok(
    rejected.context.some((line) => /got no answer/.test(line)),
    `the earlier dropped runs are context: ${JSON.stringify(rejected.context)}`,
  );

  // Reject at the target from everywhere.
  await inTarget('outside', ['-A', ...SHOP_IN, '-j', 'REJECT']);
  const reject = await runSlot();
  assert.equal(reject.verdict, 'service');
  for (const location of LOCATIONS) assert.equal(reject.analyses[location]!.verdict, 'refused');
  for (const location of LOCATIONS) await inTarget(location, ['-D', ...SHOP_IN, '-j', 'REJECT']);

  // SYN-ACKs held back until after the 2 s timeout: the one that passes comes at ~3 s.
  for (const location of LOCATIONS) await inTarget(location, ['-A', ...SYNACK_OUT]);
  const slow = await runSlot(async (started) => {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + 2300 - Date.now())));
    for (const location of LOCATIONS) await inTarget(location, ['-D', ...SYNACK_OUT]);
  });
  assert.equal(slow.verdict, 'service');
  for (const location of LOCATIONS) {
    const analysis = slow.analyses[location]!;
    assert.equal(analysis.verdict, 'slow_handshake', `${location}: ${formatAnalysis(analysis)}`);
    assert.match(
      analysis.diagnosis,
      /^server 198\.18\.0\.2:8080 accepted too late: SYN answered in (29\d\d|3\d\d\d) ms, after the 2000 ms timeout/,
    );
  }

  // The probe host's own firewall, DROP then REJECT in its OUTPUT; the other location passes.
  // A passing run a moment before is in each slice window and must not read "no problem seen".
  assert.equal((await runSlot()).verdict, 'ok');
  for (const action of ['DROP', 'REJECT']) {
    await inProbeHost('inside', ['-A', ...PROBE_OUT, '-j', action]);
    const broken = await runSlot();
    await inProbeHost('inside', ['-D', ...PROBE_OUT, '-j', action]);
    assert.equal(broken.runs.outside.status, 'pass');
    assert.equal(broken.verdict, 'probe-host', `${action}: the inside probe host is at fault`);
    const analysis = broken.analyses.inside!;
    assert.equal(analysis.verdict, 'not_sent', `${action}: ${analysis.diagnosis}`);
    assert.match(analysis.diagnosis, /^the probe host did not send: no packet of this run left the host/);
  }
  console.log(`capture-diagnosis: ${slot} slots in ${Date.now() - testStarted} ms`);
});
