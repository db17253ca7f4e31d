import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import { analyzeCapture } from '../../capture/analyze-capture.ts';
import { checkCapturePermission } from '../../capture/capture-permission.ts';
import { ExcludedListeners } from '../../capture/excluded-listeners.ts';
import {
  type PeriodicCollectionResult,
  PeriodicCollector,
  type PeriodicCollectorEvent,
} from '../../capture/periodic-collection.ts';
import { TcpdumpRing } from '../../capture/tcpdump-ring.ts';
import type { ArtifactStore, StoredArtifact } from '../../src/artifacts/artifact-store.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import {
  periodicCollectionSchema,
  periodicCollectionsSchema,
} from '../../src/config/periodic-collection-schema.ts';
import { startHttpServer, type TestServer } from '../helpers/test-servers.ts';

let unavailable: string | undefined;
let dir: string;
let ring: TcpdumpRing | undefined;
/** The traffic a collection wants, and traffic it must leave out. */
let wanted: TestServer;
let other: TestServer;
/** A server on 127.0.0.2 (still loopback), for address-only filters. */
let second: http.Server;
let secondPort: number;

before(async () => {
  try {
    await checkCapturePermission();
  } catch (error) {
    unavailable = (error as Error).message;
    console.log(`periodic capture tests skipped: ${unavailable}`);
    return;
  }
  dir = await mkdtemp(join(tmpdir(), 'pwcap-periodic-'));
  wanted = await startHttpServer((_request, response) => response.end('wanted'));
  other = await startHttpServer((_request, response) => response.end('other'));
  second = http.createServer((_request, response) => response.end('second'));
  second.listen(0, '127.0.0.2');
  await once(second, 'listening');
  secondPort = (second.address() as { port: number }).port;
  ring = new TcpdumpRing({
    dir: join(dir, 'ring'),
    interface: 'lo',
    filter: `tcp port ${wanted.port} or tcp port ${other.port} or tcp port ${secondPort}`,
    ringSize: 8_000_000,
    fileSize: 2_000_000,
    maxAge: 600_000,
    snaplen: 262_144,
    // Payloads kept in the ring, so a collection can be compared with and without them.
    payload: 'full',
    bufferSize: 8 * 1024 * 1024,
  });
  await ring.start();
});

after(async () => {
  await ring?.stop();
  await wanted?.close();
  await other?.close();
  second?.closeAllConnections();
  second?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function get(host: string, port: number, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host, port, path: '/', agent: false, headers }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
}

/** The stored pcap analysed: the server ports of its TCP flows, and its packet count. */
async function storedFlows(
  store: ArtifactStore,
  key: string,
): Promise<{ servers: string[]; packets: number; flows: number; packetsTo: (server: string) => number }> {
  const artifact = await store.get(key);
  assert.ok(artifact, `${key} is stored`);
  const file = join(dir, `read-${Date.now()}-${Math.random()}.pcap`);
  await writeFile(file, await buffer(artifact.stream));
  const analysis = await analyzeCapture(file);
  return {
    servers: [...new Set(analysis.tcpFlows.map((flow) => `${flow.server.ip}:${flow.server.port}`))].sort(),
    packets: analysis.packets,
    flows: analysis.tcpFlows.length,
    packetsTo: (server: string) =>
      analysis.tcpFlows
        .filter((flow) => `${flow.server.ip}:${flow.server.port}` === server)
        .reduce((sum, flow) => sum + flow.packets, 0),
  };
}

test('the schema reads durations, fills in defaults and names every mistake', () => {
  const parsed = periodicCollectionSchema.parse({ id: 'edge', every: '5m', window: '2m', ports: [443] });
  assert.deepEqual(parsed, {
    id: 'edge',
    every: 300_000,
    window: 120_000,
    ports: [443],
    includeDns: false,
    keep: 7 * 86_400_000,
  });

  const bad = periodicCollectionSchema.safeParse({
    id: 'edge',
    every: '30s',
    window: 'two minutes',
    peers: [{ ip: '10.0.0.300', port: 70_000 }],
    kep: '1d',
  });
  assert.equal(bad.success, false);
  const messages = bad.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  assert.ok(
    messages.some((text) => /^every: must be at least 1m, got "30s"/.test(text)),
    messages.join('\n'),
  );
  assert.ok(
    messages.some((text) => /^window: expected a duration/.test(text)),
    messages.join('\n'),
  );
  assert.ok(messages.some((text) => /^peers\.0\.ip: expected an IPv4 or IPv6 address/.test(text)));
  assert.ok(messages.some((text) => /^peers\.0\.port: port must be 1-65535, got 70000/.test(text)));
  assert.ok(
    messages.some((text) => /unknown key "kep", did you mean "keep"\?/.test(text)),
    messages.join('\n'),
  );

  const duplicate = periodicCollectionsSchema.safeParse([
    { id: 'a', every: '1m', window: '1m' },
    { id: 'a', every: '2m', window: '1m' },
  ]);
  assert.equal(duplicate.success, false);
  assert.match(duplicate.error!.issues[0].message, /duplicate collection id "a"/);
});

test('every interval, a collector stores the last window cut to its ports, with its analysis', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const store = new FilesystemArtifactStore(join(dir, 'store-schedule'));
  const events: PeriodicCollectorEvent[] = [];
  let collected: ((result: PeriodicCollectionResult) => void) | undefined;
  const firstCollection = new Promise<PeriodicCollectionResult>((resolve) => (collected = resolve));
  const collector = new PeriodicCollector({
    ringDir: ring!.dir,
    artifacts: store,
    entries: [periodicCollectionSchema.parse({ id: 'web', every: '1m', window: '1m', ports: [wanted.port] })],
    intervalMsOverride: 1500,
    onEvent: (event) => {
      events.push(event);
      if (event.type === 'collected') collected?.(event.result);
    },
  });
  // Traffic before the first collection: three requests we want, two we do not.
  for (let i = 0; i < 3; i++) assert.equal(await get('127.0.0.1', wanted.port), 'wanted');
  for (let i = 0; i < 2; i++) assert.equal(await get('127.0.0.1', other.port), 'other');
  collector.start();
  const result = await firstCollection;
  await collector.stop();

  assert.deepEqual(
    events.filter((event) => event.type === 'failed'),
    [],
  );
  assert.match(result.pcap.key, /^captures\/web\/\d{8}T\d{6}\.\d{3}Z\.pcap$/);
  assert.equal(result.analysis.key, result.pcap.key.replace(/\.pcap$/, '.analysis.json'));
  const flows = await storedFlows(store, result.pcap.key);
  assert.deepEqual(flows.servers, [`127.0.0.1:${wanted.port}`], 'only the wanted port is in the slice');
  assert.ok(flows.flows >= 3, `the three wanted connections are there (got ${flows.flows})`);
  assert.equal(flows.packets, result.packets);

  const json = await store.get(result.analysis.key);
  const analysis = JSON.parse((await buffer(json!.stream)).toString('utf8'));
  assert.equal(analysis.collection, 'web');
  assert.equal(analysis.to - analysis.from, 60_000);
  assert.ok(analysis.tcpFlows.length >= 3);
  assert.deepEqual((await store.list('captures/web/')).map((artifact) => artifact.key).slice(0, 2), [
    result.analysis.key,
    result.pcap.key,
  ]);
});

test('an address-only filter keeps all that address talks, on any port', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const store = new FilesystemArtifactStore(join(dir, 'store-address'));
  const collector = new PeriodicCollector({
    ringDir: ring!.dir,
    artifacts: store,
    entries: [
      periodicCollectionSchema.parse({
        id: 'second',
        every: '1m',
        window: '1m',
        peers: [{ ip: '127.0.0.2' }],
      }),
    ],
  });
  assert.equal(await get('127.0.0.2', secondPort), 'second');
  assert.equal(await get('127.0.0.1', wanted.port), 'wanted');
  const result = await collector.collectNow('second');
  await collector.stop();
  const flows = await storedFlows(store, result.pcap.key);
  assert.deepEqual(flows.servers, [`127.0.0.2:${secondPort}`]);
});

test('a collection keeps headers only unless payload is full, and never holds the excluded (API) port', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const secret = `pw-collect-${Math.random().toString(36).slice(2)}${Date.now()}`;
  assert.equal(await get('127.0.0.1', wanted.port, { authorization: `Bearer ${secret}` }), 'wanted');
  // `other` plays the API: its port is excluded, whatever it carries.
  assert.equal(await get('127.0.0.1', other.port, { authorization: `Bearer ${secret}` }), 'other');
  const collect = async (payload: 'headers' | 'full') => {
    const store = new FilesystemArtifactStore(join(dir, `store-payload-${payload}`));
    const collector = new PeriodicCollector({
      ringDir: ring!.dir,
      artifacts: store,
      entries: [periodicCollectionSchema.parse({ id: 'all', every: '1m', window: '1m' })],
      payload,
      excludedListeners: new ExcludedListeners([other.port]),
    });
    const result = await collector.collectNow('all');
    await collector.stop();
    const bytes = await buffer((await store.get(result.pcap.key))!.stream);
    return { bytes, flows: await storedFlows(store, result.pcap.key) };
  };
  const cut = await collect('headers');
  const full = await collect('full');
  assert.ok(full.bytes.includes(secret), 'payload: full keeps the request');
  assert.ok(!cut.bytes.includes(secret), 'the default keeps no payload byte');
  for (const { flows } of [cut, full]) {
    assert.ok(flows.servers.includes(`127.0.0.1:${wanted.port}`), flows.servers.join());
    assert.ok(
      !flows.servers.includes(`127.0.0.1:${other.port}`),
      `the excluded port is left out: ${flows.servers}`,
    );
  }
  // The same packets of the wanted flow either way (the two collections read the ring a moment
  // apart: other loopback traffic in between may add packets elsewhere, never to this flow).
  const wantedServer = `127.0.0.1:${wanted.port}`;
  assert.ok(cut.flows.packetsTo(wantedServer) > 0);
  assert.equal(cut.flows.packetsTo(wantedServer), full.flows.packetsTo(wantedServer));
});

test('retention deletes the collection’s artifacts older than keep, and nothing else', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const inner = new FilesystemArtifactStore(join(dir, 'store-retention'));
  const day = 86_400_000;
  // A store as it would look after days of running: some artifacts were stored long ago.
  const storedAt = new Map<string, number>();
  const store: ArtifactStore = {
    put: (key, data, contentType) => inner.put(key, data, contentType),
    get: (key) => inner.get(key),
    delete: (key) => inner.delete(key),
    list: async (prefix) =>
      (await inner.list(prefix)).map(
        (artifact): StoredArtifact => ({
          ...artifact,
          createdAt: storedAt.get(artifact.key) ?? artifact.createdAt,
        }),
      ),
  };
  for (const key of [
    'captures/web/20000101T000000.000Z.pcap',
    'captures/web/20000101T000000.000Z.analysis.json',
  ]) {
    await store.put(key, Buffer.from('old'), 'application/octet-stream');
    storedAt.set(key, Date.now() - 3 * day);
  }
  await store.put('captures/web/20000102T000000.000Z.pcap', Buffer.from('young'), 'application/octet-stream');
  storedAt.set('captures/web/20000102T000000.000Z.pcap', Date.now() - day);
  await store.put(
    'captures/other/20000101T000000.000Z.pcap',
    Buffer.from('other'),
    'application/octet-stream',
  );
  storedAt.set('captures/other/20000101T000000.000Z.pcap', Date.now() - 30 * day);
  await store.put('runs/r1/capture.pcap', Buffer.from('run'), 'application/octet-stream');

  const collector = new PeriodicCollector({
    ringDir: ring!.dir,
    artifacts: store,
    entries: [
      periodicCollectionSchema.parse({
        id: 'web',
        every: '1m',
        window: '10s',
        ports: [wanted.port],
        keep: '2d',
      }),
    ],
  });
  const result = await collector.collectNow('web');
  await collector.stop();
  assert.deepEqual(result.deleted.sort(), [
    'captures/web/20000101T000000.000Z.analysis.json',
    'captures/web/20000101T000000.000Z.pcap',
  ]);
  assert.deepEqual(
    (await inner.list('')).map((artifact) => artifact.key),
    [
      'captures/other/20000101T000000.000Z.pcap',
      'captures/web/20000102T000000.000Z.pcap',
      result.analysis.key,
      result.pcap.key,
      'runs/r1/capture.pcap',
    ].sort((a, b) => a.localeCompare(b)),
  );
});

test('stop() waits for a collection in flight, and a failure is reported, not thrown from the timer', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const store = new FilesystemArtifactStore(join(dir, 'store-stop'));
  const collector = new PeriodicCollector({
    ringDir: ring!.dir,
    artifacts: store,
    entries: [periodicCollectionSchema.parse({ id: 'inflight', every: '1m', window: '5s' })],
  });
  const inFlight = collector.collectNow('inflight');
  await collector.stop();
  const result = await inFlight;
  assert.ok(await store.get(result.pcap.key), 'the collection in flight was stored before stop() returned');

  let reportFailure: ((error: Error) => void) | undefined;
  const failed = new Promise<Error>((resolve) => (reportFailure = resolve));
  const failing = new PeriodicCollector({
    ringDir: ring!.dir,
    artifacts: {
      put: async () => {
        throw new Error('disk full');
      },
      get: (key) => store.get(key),
      list: (prefix) => store.list(prefix),
      delete: (key) => store.delete(key),
    },
    entries: [periodicCollectionSchema.parse({ id: 'broken', every: '1m', window: '5s' })],
    intervalMsOverride: 200,
    onEvent: (event) => {
      if (event.type === 'failed') reportFailure?.(event.error);
    },
  });
  failing.start();
  const error = await failed;
  await failing.stop();
  assert.match(error.message, /periodic capture "broken": disk full/);
});
