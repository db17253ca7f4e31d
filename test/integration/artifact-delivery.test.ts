import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { buildApp } from '../../src/api/build-app.ts';
import { DeliveringArtifactStore } from '../../src/artifacts/delivering-artifact-store.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { closedPort } from '../helpers/test-servers.ts';

/**
 * A worker's DeliveringArtifactStore against a real API on loopback: an outage keeps every
 * artifact in the spool, the API's return delivers them and empties it, a restart resumes it.
 */
const prefix = uniquePrefix('delivery');
const dir = mkdtempSync(join(tmpdir(), 'pw-delivery-'));
const worker = createApiToken();
let redis: Redis;

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger whose lines land in `lines`. */
function capturingLogger() {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, callback) {
        lines.push(JSON.parse(String(chunk)) as LogLine);
        callback();
      },
    }),
  );
  return { logger, lines };
}

/** An API on `port` whose store is `storeDir`, taking uploads up to `maxUploadSize`. */
async function startApi(port: number, storeDir: string, maxUploadSize = '64MiB'): Promise<FastifyInstance> {
  const config = await parseConfig(
    {
      locations: { outside: {} },
      redis: { prefix },
      artifacts: { maxUploadSize },
      api: { tokens: [{ name: 'worker-outside', hash: worker.hash, role: 'worker' }] },
    },
    join(dir, 'pathwatch.yaml'),
  );
  const app = await buildApp({
    config,
    recorder: new ResultsRecorder(redis, config),
    artifacts: new FilesystemArtifactStore(storeDir),
  });
  await app.listen({ host: '127.0.0.1', port });
  return app;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

before(() => {
  redis = createRedisConnection(SHARED_REDIS_URL);
});

after(async () => {
  await deleteKeysWithPrefix(prefix);
  redis?.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

test('API down: every artifact stays spooled and the outage is logged once; API back: all delivered byte for byte, spool empty', async (t) => {
  const port = await closedPort();
  const spoolDir = join(dir, 'a-spool');
  const apiDir = join(dir, 'a-api');
  const { logger, lines } = capturingLogger();
  const spool = new FilesystemArtifactStore(spoolDir);
  const store = new DeliveringArtifactStore({
    spool,
    target: { url: `http://127.0.0.1:${port}`, token: worker.token },
    logger,
    retry: { firstDelayMs: 20, maxDelayMs: 100 },
  });
  t.after(() => store.close(0));
  await store.start();
  const slice = randomBytes(6 * 1024 * 1024);
  await store.put('runs/run1/capture.pcap', slice, 'application/vnd.tcpdump.pcap');
  await store.put('runs/run1/capture-analysis.json', Buffer.from('{"packets":3}'), 'application/json');
  await store.put('runs/run2/trace.zip', Buffer.from('zip'), 'application/zip');
  // Several tries go by (20, 40, 80, 100 ms …) while nothing listens.
  await new Promise((resolve) => setTimeout(resolve, 800));
  assert.equal(store.pending, 3);
  assert.deepEqual(
    (await spool.list('')).map((artifact) => artifact.key),
    ['runs/run1/capture-analysis.json', 'runs/run1/capture.pcap', 'runs/run2/trace.zip'],
    'nothing lost while the API is away',
  );
  const failing = lines.filter((line) => /delivery is failing/.test(line.msg));
  assert.equal(failing.length, 1, `one line for the outage, not one per try: ${JSON.stringify(lines)}`);
  assert.match(String(failing[0].reason), /ECONNREFUSED/);
  // list() and get() answer from the spool meanwhile.
  assert.equal((await store.list('runs/run1/')).length, 2);
  const read = await store.get('runs/run2/trace.zip');
  assert.ok(read);
  read.stream.destroy();

  const api = await startApi(port, apiDir);
  t.after(() => api.close());
  await until(() => store.pending === 0, 'the spool is delivered');
  assert.deepEqual(await spool.list(''), [], 'delivered files leave the spool');
  assert.equal(sha256(readFileSync(join(apiDir, 'runs/run1/capture.pcap'))), sha256(slice));
  assert.equal(readFileSync(join(apiDir, 'runs/run2/trace.zip'), 'utf8'), 'zip');
  const served = await new FilesystemArtifactStore(apiDir).list('runs/');
  assert.deepEqual(
    served.map((artifact) => [artifact.key, artifact.contentType]),
    [
      ['runs/run1/capture-analysis.json', 'application/json'],
      ['runs/run1/capture.pcap', 'application/vnd.tcpdump.pcap'],
      ['runs/run2/trace.zip', 'application/zip'],
    ],
  );
  assert.equal(lines.filter((line) => /delivery is back/.test(line.msg)).length, 1);
  // What was delivered is still listed here for a while (a crashed run lists its evidence).
  assert.deepEqual(
    (await store.list('runs/run1/')).map((artifact) => artifact.key),
    ['runs/run1/capture-analysis.json', 'runs/run1/capture.pcap'],
  );
  // A put while the API is up goes at once.
  await store.put('runs/run3/failure.png', Buffer.from('png'), 'image/png');
  await until(() => store.pending === 0, 'the new artifact is delivered');
  assert.equal(readFileSync(join(apiDir, 'runs/run3/failure.png'), 'utf8'), 'png');
});

test('a worker restarted during an outage resumes its spool and delivers it', async (t) => {
  const port = await closedPort();
  const spoolDir = join(dir, 'b-spool');
  const apiDir = join(dir, 'b-api');
  const target = { url: `http://127.0.0.1:${port}/`, token: worker.token };
  const first = new DeliveringArtifactStore({
    spool: new FilesystemArtifactStore(spoolDir),
    target,
    retry: { firstDelayMs: 20, maxDelayMs: 50 },
  });
  await first.start();
  await first.put('runs/run1/trace.zip', Buffer.from('one'), 'application/zip');
  await first.put(
    'captures/hourly/20261207T100000.000Z.pcap',
    Buffer.from('pcap'),
    'application/vnd.tcpdump.pcap',
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  await first.close(100);
  assert.equal(first.pending, 2, 'still spooled when the first process stops');

  const api = await startApi(port, apiDir);
  t.after(() => api.close());
  const { logger, lines } = capturingLogger();
  const second = new DeliveringArtifactStore({
    spool: new FilesystemArtifactStore(spoolDir),
    target,
    logger,
    retry: { firstDelayMs: 20 },
  });
  t.after(() => second.close(0));
  assert.deepEqual(await second.start(), { spooled: 2 });
  assert.ok(lines.some((line) => /left in the spool by an earlier run/.test(line.msg)));
  await until(() => second.pending === 0, 'the resumed spool is delivered');
  assert.equal(readFileSync(join(apiDir, 'runs/run1/trace.zip'), 'utf8'), 'one');
  assert.equal(readFileSync(join(apiDir, 'captures/hourly/20261207T100000.000Z.pcap'), 'utf8'), 'pcap');
  assert.deepEqual(await new FilesystemArtifactStore(spoolDir).list(''), []);
});

test('an artifact the API refuses (over its size limit) stays in the spool, logged once, and does not hold up the others', async (t) => {
  const port = await closedPort();
  const spoolDir = join(dir, 'c-spool');
  const apiDir = join(dir, 'c-api');
  const api = await startApi(port, apiDir, '1MiB');
  t.after(() => api.close());
  const { logger, lines } = capturingLogger();
  const store = new DeliveringArtifactStore({
    spool: new FilesystemArtifactStore(spoolDir),
    target: { url: `http://127.0.0.1:${port}`, token: worker.token },
    logger,
    retry: { firstDelayMs: 20 },
  });
  t.after(() => store.close(0));
  await store.start();
  await store.put('runs/big/capture.pcap', randomBytes(2 * 1024 * 1024), 'application/vnd.tcpdump.pcap');
  await store.put('runs/small/trace.zip', Buffer.from('small'), 'application/zip');
  await store.drained();
  assert.equal(readFileSync(join(apiDir, 'runs/small/trace.zip'), 'utf8'), 'small');
  assert.deepEqual(
    (await new FilesystemArtifactStore(spoolDir).list('')).map((artifact) => artifact.key),
    ['runs/big/capture.pcap'],
  );
  const refused = lines.filter((line) => /refused an artifact/.test(line.msg));
  assert.equal(refused.length, 1);
  assert.match(String(refused[0].reason), /^413 the artifact is larger than the 1048576 bytes the API takes/);
});

test('a wrong token is an outage (logged once, retried), not a loss: the spool waits for the fix', async (t) => {
  const port = await closedPort();
  const api = await startApi(port, join(dir, 'd-api'));
  t.after(() => api.close());
  const { logger, lines } = capturingLogger();
  const spool = new FilesystemArtifactStore(join(dir, 'd-spool'));
  const store = new DeliveringArtifactStore({
    spool,
    target: { url: `http://127.0.0.1:${port}`, token: createApiToken().token },
    logger,
    retry: { firstDelayMs: 20, maxDelayMs: 50 },
  });
  t.after(() => store.close(0));
  await store.start();
  await store.put('runs/run1/trace.zip', Buffer.from('zip'), 'application/zip');
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(store.pending, 1);
  assert.equal((await spool.list('')).length, 1);
  const failing = lines.filter((line) => /delivery is failing/.test(line.msg));
  assert.equal(failing.length, 1);
  assert.match(String(failing[0].reason), /^401 this bearer token is not in api\.tokens/);
});
