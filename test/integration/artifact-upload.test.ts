import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/build-app.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * PUT /api/v1/artifacts/<key> on a real listening API: only a worker token uploads, the body
 * is streamed into the API's store byte for byte, bad keys and oversized bodies are refused.
 */
const prefix = uniquePrefix('upload');
const dir = mkdtempSync(join(tmpdir(), 'pw-upload-'));
const storeDir = join(dir, 'artifacts');
const tokens = { worker: createApiToken(), admin: createApiToken(), operator: createApiToken() };
const MAX = 4 * 1024 * 1024;
let redis: Redis;
let app: FastifyInstance;
let port: number;
let workerOnlyApp: FastifyInstance;
let workerOnlyPort: number;

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One raw HTTP request (the path is sent exactly as written), with a body written by `write`. */
function send(
  options: { path: string; method?: string; token?: string; headers?: Record<string, string | number> },
  write: (request: http.ClientRequest) => void = (request) => request.end(),
  to = port,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1',
      port: to,
      path: options.path,
      method: options.method ?? 'PUT',
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
    });
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, headers: response.headers }),
      );
    });
    request.on('error', reject);
    write(request);
  });
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Every file under the store, sidecars and temporary files included. */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .sort();
}

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  const raw = {
    locations: { inside: {} },
    redis: { prefix },
    artifacts: { maxUploadSize: '4MiB' },
    api: {
      tokens: Object.entries(tokens).map(([role, { hash }]) => ({ name: `${role}-holder`, hash, role })),
    },
  };
  const config = await parseConfig(raw, join(dir, 'pathwatch.yaml'));
  const recorder = new ResultsRecorder(redis, config);
  app = await buildApp({ config, recorder, artifacts: new FilesystemArtifactStore(storeDir) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
  // Only a worker's token configured: readers are not asked for one, uploads still are.
  const workerOnly = await parseConfig(
    { ...raw, api: { tokens: [{ name: 'w', hash: tokens.worker.hash, role: 'worker' }] } },
    join(dir, 'pathwatch.yaml'),
  );
  workerOnlyApp = await buildApp({
    config: workerOnly,
    recorder,
    artifacts: new FilesystemArtifactStore(join(dir, 'worker-only')),
  });
  await workerOnlyApp.listen({ host: '127.0.0.1', port: 0 });
  workerOnlyPort = (workerOnlyApp.server.address() as { port: number }).port;
});

after(async () => {
  await app?.close();
  await workerOnlyApp?.close();
  await deleteKeysWithPrefix(prefix);
  redis?.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

test('a worker streams a 20 MB slice in: it is stored byte for byte with its type, while the body is still arriving', async () => {
  const body = randomBytes(20 * 1024 * 1024);
  // A limit above the body for this one upload: the shared app's is 4 MiB.
  const big = await parseConfig(
    {
      locations: { inside: {} },
      redis: { prefix },
      api: { tokens: [{ name: 'w', hash: tokens.worker.hash, role: 'worker' }] },
    },
    join(dir, 'pathwatch.yaml'),
  );
  const bigDir = join(dir, 'big');
  const bigApp = await buildApp({
    config: big,
    recorder: new ResultsRecorder(redis, big),
    artifacts: new FilesystemArtifactStore(bigDir),
  });
  await bigApp.listen({ host: '127.0.0.1', port: 0 });
  try {
    const bigPort = (bigApp.server.address() as { port: number }).port;
    let partialSeenMidway = false;
    const answer = await send(
      {
        path: '/api/v1/artifacts/runs/r1/capture.pcap',
        token: tokens.worker.token,
        headers: { 'content-type': 'application/vnd.tcpdump.pcap', 'content-length': body.length },
      },
      (request) => {
        // Half the body, then a look at the store: the API writes before the upload ends.
        request.write(body.subarray(0, body.length / 2), () => {
          setTimeout(() => {
            partialSeenMidway = filesUnder(bigDir).some((name) => name.includes('.partial-'));
            request.end(body.subarray(body.length / 2));
          }, 300);
        });
      },
      bigPort,
    );
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(JSON.parse(answer.body), {
      key: 'runs/r1/capture.pcap',
      bytes: body.length,
      contentType: 'application/vnd.tcpdump.pcap',
    });
    assert.ok(partialSeenMidway, 'half the body was already on disk before the rest was sent');
    assert.equal(sha256(readFileSync(join(bigDir, 'runs/r1/capture.pcap'))), sha256(body));
    const stored = await new FilesystemArtifactStore(bigDir).list('runs/r1/');
    assert.deepEqual(
      stored.map((artifact) => [artifact.key, artifact.contentType, artifact.bytes]),
      [['runs/r1/capture.pcap', 'application/vnd.tcpdump.pcap', body.length]],
    );
  } finally {
    await bigApp.close();
  }
});

test('the same key again overwrites it: a retry after a lost answer is harmless', async () => {
  const path = '/api/v1/artifacts/runs/r2/trace.zip';
  const headers = { 'content-type': 'application/zip' };
  const first = await send({ path, token: tokens.worker.token, headers }, (request) => request.end('first'));
  const second = await send({ path, token: tokens.worker.token, headers }, (request) =>
    request.end('second!'),
  );
  assert.equal(first.status, 200, first.body);
  assert.equal(second.status, 200, second.body);
  assert.equal(readFileSync(join(storeDir, 'runs/r2/trace.zip'), 'utf8'), 'second!');
  assert.deepEqual(
    filesUnder(join(storeDir, 'runs/r2')),
    ['trace.zip', 'trace.zip.meta.json'],
    'no leftover temporary file',
  );
});

test('only the worker role uploads; no read role may, and a worker token reads nothing', async () => {
  const path = '/api/v1/artifacts/runs/r3/x.txt';
  const put = (token?: string) => send({ path, token }, (request) => request.end('x'));
  assert.equal((await put()).status, 401);
  assert.equal((await put(createApiToken().token)).status, 401);
  for (const role of ['operator', 'admin'] as const) {
    const refused = await put(tokens[role].token);
    assert.equal(refused.status, 403, role);
    assert.match(
      JSON.parse(refused.body).error.message,
      new RegExp(`needs the worker role; the token "${role}-holder" has the ${role} role`),
    );
  }
  assert.equal(existsSync(join(storeDir, 'runs/r3')), false, 'nothing was written for them');
  assert.equal((await put(tokens.worker.token)).status, 200);
  for (const url of [
    '/api/v1/checks',
    '/api/v1/runs/r3',
    '/api/v1/runs/r3/artifacts/x.txt',
    '/api/v1/captures',
  ])
    assert.equal((await send({ path: url, method: 'GET', token: tokens.worker.token })).status, 403, url);
});

test("a worker's token alone leaves the API open to readers, and uploads still need it", async () => {
  const open = await send({ path: '/api/v1/checks', method: 'GET' }, undefined, workerOnlyPort);
  assert.equal(open.status, 200, open.body);
  const path = '/api/v1/artifacts/runs/r4/x.txt';
  const anonymous = await send({ path }, (request) => request.end('x'), workerOnlyPort);
  assert.equal(anonymous.status, 401, anonymous.body);
  const worker = await send(
    { path, token: tokens.worker.token },
    (request) => request.end('x'),
    workerOnlyPort,
  );
  assert.equal(worker.status, 200, worker.body);
});

test('a key that climbs out of the store, or lies outside what workers write, is refused with 400 and writes nothing', async () => {
  const before = filesUnder(dir);
  for (const key of [
    'runs/../../escape.txt',
    'runs/%2e%2e/%2e%2e/escape.txt',
    'runs/..%2f..%2fescape.txt',
    '../escape.txt',
    'runs//x.txt',
    'runs/.hidden',
    'bundles/forged.zip',
    'link-key',
  ]) {
    const answer = await send({ path: `/api/v1/artifacts/${key}`, token: tokens.worker.token }, (request) =>
      request.end('evil'),
    );
    assert.equal(answer.status, 400, `${key}: ${answer.body}`);
    assert.equal(JSON.parse(answer.body).error.code, 'ARTIFACT_KEY_INVALID', key);
    assert.doesNotMatch(answer.body, /\n/);
  }
  assert.deepEqual(filesUnder(dir), before, 'no file appeared anywhere');
  assert.equal(existsSync(join(tmpdir(), 'escape.txt')), false);
});

test('a body over artifacts.maxUploadSize is answered 413 in one line, declared or not, and leaves nothing', async () => {
  const path = '/api/v1/artifacts/runs/r5/capture.pcap';
  const declared = await send(
    {
      path,
      token: tokens.worker.token,
      headers: { 'content-length': MAX + 1, 'content-type': 'application/octet-stream' },
    },
    // Only the head: the API answers before the body, and closes.
    (request) => request.flushHeaders(),
  );
  assert.equal(declared.status, 413, declared.body);
  assert.deepEqual(JSON.parse(declared.body).error, {
    code: 'BODY_TOO_LARGE',
    message: `the artifact is larger than the ${MAX} bytes the API takes (artifacts.maxUploadSize)`,
  });
  // Chunked, no length: counted as it arrives, refused when it passes the limit.
  const chunked = await send({ path, token: tokens.worker.token }, (request) => {
    request.on('error', () => {}); // the API may close before the last chunk is written
    request.write(randomBytes(MAX));
    request.end(randomBytes(1024));
  }).catch((error: Error) => ({ status: 0, body: error.message, headers: {} }));
  assert.ok(chunked.status === 413 || chunked.status === 0, `${chunked.status} ${chunked.body}`);
  if (chunked.status === 413) assert.equal(JSON.parse(chunked.body).error.code, 'BODY_TOO_LARGE');
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(filesUnder(join(storeDir, 'runs/r5')), [], 'no partial file stays behind');
  // Exactly the limit passes.
  const exact = await send({ path, token: tokens.worker.token }, (request) => request.end(randomBytes(MAX)));
  assert.equal(exact.status, 200, exact.body);
});
