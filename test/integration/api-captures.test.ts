import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runRecord, startEvidenceApp, writeSyntheticPcap } from '../helpers/evidence-app.ts';

/**
 * Issue 13 (captures): the listing with its filters and refusals, downloads with HTTP Range
 * on a run's slice and on a periodic collection, and path traversal refused.
 */
let env: Awaited<ReturnType<typeof startEvidenceApp>>;
let slice: Buffer;
let collection: Buffer;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const COLLECTION_FILE = '20261207T103000.000Z.pcap';

before(async () => {
  env = await startEvidenceApp('captures');
  const { store, recorder } = env;
  const pcapPath = join(env.dir, 'slice.pcap');
  await writeSyntheticPcap(pcapPath, 1_000_000);
  slice = readFileSync(pcapPath);
  collection = readFileSync(new URL('../fixtures/pcap/tls-protocol-version-sll2.pcap', import.meta.url));
  const pcapOf = async (runId: string, data: Buffer) => {
    const pcap = await store.put(`runs/${runId}/capture.pcap`, data, 'application/vnd.tcpdump.pcap');
    const text = await store.put(
      `runs/${runId}/capture-analysis.txt`,
      Buffer.from('diagnosis\n'),
      'text/plain',
    );
    return [
      { kind: 'pcap', key: pcap.key, bytes: pcap.bytes },
      { kind: 'analysis', key: text.key, bytes: text.bytes },
    ];
  };
  await recorder.runs.save(
    runRecord({
      runId: 's1',
      startedAt: T0 - 3 * HOUR,
      status: 'fail',
      artifacts: await pcapOf('s1', slice),
    }),
  );
  await recorder.runs.save(
    runRecord({
      runId: 's2',
      location: 'outside',
      startedAt: T0 - 2 * HOUR,
      status: 'fail',
      artifacts: await pcapOf('s2', collection),
    }),
  );
  await recorder.runs.save(
    runRecord({
      runId: 's3',
      checkId: 'api',
      kind: 'tcp',
      startedAt: T0 - HOUR,
      status: 'fail',
      artifacts: await pcapOf('s3', collection),
    }),
  );
  await recorder.runs.save(runRecord({ runId: 'p1', startedAt: T0 - 30 * 60_000 }));
  await store.put(`captures/hourly/${COLLECTION_FILE}`, collection, 'application/vnd.tcpdump.pcap');
  await store.put(
    'captures/hourly/20261207T103000.000Z.analysis.json',
    Buffer.from('{"diagnosis":"quiet"}'),
    'application/json',
  );
  // Outside the store's root, where a traversal would land.
  writeFileSync(join(env.dir, 'secret.txt'), 'do not serve me');
});

after(async () => {
  await env?.close();
});

const list = (query: string) =>
  env.app.inject({ url: `/api/v1/captures${query}`, headers: env.as('operator') });

test('the listing holds slices and collections, newest first, with their download URLs', async () => {
  const response = await list('');
  assert.equal(response.statusCode, 200, response.body);
  const { captures, more } = response.json();
  assert.equal(more, false);
  assert.deepEqual(
    captures.map((capture: { type: string; runId: string | null }) => `${capture.type}:${capture.runId}`),
    ['slice:s3', 'collection:null', 'slice:s2', 'slice:s1'],
  );
  assert.deepEqual(captures[3], {
    type: 'slice',
    check: 'shop',
    location: 'inside',
    runId: 's1',
    collection: null,
    time: new Date(T0 - 3 * HOUR).toISOString(),
    bytes: slice.length,
    name: 'capture.pcap',
    url: '/api/v1/runs/s1/artifacts/capture.pcap',
    analysisUrl: '/api/v1/runs/s1/artifacts/capture-analysis.txt',
  });
  assert.deepEqual(captures[1], {
    type: 'collection',
    check: null,
    location: null,
    runId: null,
    collection: 'hourly',
    time: '2026-12-07T10:30:00.000Z',
    bytes: collection.length,
    name: COLLECTION_FILE,
    url: `/api/v1/captures/collections/hourly/${COLLECTION_FILE}`,
    analysisUrl: '/api/v1/captures/collections/hourly/20261207T103000.000Z.analysis.json',
  });
  // Each URL downloads what was stored.
  for (const [index, expected] of [
    [1, collection],
    [3, slice],
  ] as const) {
    const download = await env.app.inject({ url: captures[index].url, headers: env.as('operator') });
    assert.equal(download.statusCode, 200);
    assert.equal(download.headers['content-type'], 'application/vnd.tcpdump.pcap');
    assert.equal(download.headers['accept-ranges'], 'bytes');
    assert.ok(download.rawPayload.equals(expected));
  }
});

test('the listing filters by check, location, time and limit', async () => {
  const ids = async (query: string) => {
    const response = await list(query);
    assert.equal(response.statusCode, 200, `${query}: ${response.body}`);
    return response.json().captures.map((capture: { runId: string | null }) => capture.runId);
  };
  assert.deepEqual(await ids('?check=shop'), ['s2', 's1']);
  assert.deepEqual(await ids('?location=inside'), ['s3', 's1']);
  assert.deepEqual(await ids('?check=shop&location=outside'), ['s2']);
  assert.deepEqual(await ids('?check=api&location=outside'), []);
  const from = new Date(T0 - 2.5 * HOUR).toISOString();
  assert.deepEqual(await ids(`?from=${from}&to=${T0 - 0.5 * HOUR}`), ['s3', null, 's2']);
  assert.deepEqual(await ids('?from=2026-12-07T11:00:00%2B02:00'), ['s3', null, 's2', 's1']);
  assert.deepEqual(await ids(`?to=${T0 - 2.5 * HOUR}`), ['s1']);
  const limited = await list('?limit=1');
  assert.deepEqual(
    limited.json().captures.map((capture: { runId: string }) => capture.runId),
    ['s3'],
  );
  assert.equal(limited.json().more, true);
});

test('bad listing parameters get a 400 naming the parameter and what it takes', async () => {
  const cases: Array<[string, RegExp]> = [
    ['?check=nope', /query parameter "check" must be the id of a check or journey \(shop, api\), got "nope"/],
    [
      '?location=mars',
      /query parameter "location" must be a declared location \(inside, outside\), got "mars"/,
    ],
    [
      '?from=yesterday',
      /query parameter "from" must be a time: ISO 8601 with a zone .* or epoch milliseconds, got "yesterday"/,
    ],
    ['?to=2026-12-07T14:00:00', /query parameter "to" must be a time/],
    ['?from=2026-13-45T99:00:00Z', /query parameter "from" must be a time/],
    [`?from=${T0}&to=${T0 - 1}`, /query parameter "from" must not be later than "to"/],
    ['?limit=0', /query parameter "limit" must be an integer from 1 to 1000, got "0"/],
    ['?limit=ten', /query parameter "limit" must be an integer from 1 to 1000/],
    ['?check=shop&check=api', /query parameter "check" must be given once/],
    ['?kind=pcap', /unknown query parameter "kind"; this route takes check, location, from, to, limit/],
  ];
  for (const [query, message] of cases) {
    const response = await list(query);
    assert.equal(response.statusCode, 400, `${query}: ${response.body}`);
    assert.equal(response.json().error.code, 'BAD_REQUEST');
    assert.match(response.json().error.message, message, query);
    assert.doesNotMatch(response.json().error.message, /\n/);
  }
});

const ranged = (url: string, range: string, extra: Record<string, string> = {}) =>
  env.app.inject({ url, headers: { ...env.as('operator'), range, ...extra } });

test('a Range request on a pcap returns exactly those bytes: closed, open, suffix, past the end', async () => {
  const url = '/api/v1/runs/s1/artifacts/capture.pcap';
  const size = slice.length;
  const cases: Array<[string, number, number]> = [
    ['bytes=0-99', 0, 99],
    ['bytes=123456-234567', 123456, 234567],
    [`bytes=${size - 10}-`, size - 10, size - 1],
    ['bytes=-500', size - 500, size - 1],
    [`bytes=-${size * 2}`, 0, size - 1],
    [`bytes=500-${size * 10}`, 500, size - 1],
    ['BYTES = 7-7', 7, 7],
  ];
  for (const [range, start, end] of cases) {
    const response = await ranged(url, range);
    assert.equal(response.statusCode, 206, `${range}: ${response.body.slice(0, 200)}`);
    assert.equal(response.headers['content-range'], `bytes ${start}-${end}/${size}`, range);
    assert.equal(Number(response.headers['content-length']), end - start + 1, range);
    assert.equal(response.headers['content-type'], 'application/vnd.tcpdump.pcap');
    assert.equal(response.headers['accept-ranges'], 'bytes');
    assert.ok(response.rawPayload.equals(slice.subarray(start, end + 1)), `${range}: other bytes`);
  }
  for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 9}`, 'bytes=-0']) {
    const response = await ranged(url, range);
    assert.equal(response.statusCode, 416, range);
    assert.equal(response.headers['content-range'], `bytes */${size}`, range);
    assert.equal(response.headers['accept-ranges'], 'bytes');
    assert.equal(response.json().error.code, 'RANGE_NOT_SATISFIABLE');
  }
  // Headers a server ignores (RFC 9110 §14.2): another unit, malformed, several ranges, an
  // If-Range it cannot match. The whole file comes back.
  for (const [range, extra] of [
    ['items=0-5', {}],
    ['bytes=9-3', {}],
    ['bytes=abc', {}],
    ['bytes=0-1,5-6', {}],
    ['bytes=0-1', { 'if-range': '"some-etag"' }],
  ] as Array<[string, Record<string, string>]>) {
    const response = await ranged(url, range, extra);
    assert.equal(response.statusCode, 200, range);
    assert.equal(Number(response.headers['content-length']), size);
    assert.ok(response.rawPayload.equals(slice), range);
  }
});

test('a periodic collection downloads with Range too, and a signed link opens a range of its run', async () => {
  const url = `/api/v1/captures/collections/hourly/${COLLECTION_FILE}`;
  const part = await ranged(url, 'bytes=24-63');
  assert.equal(part.statusCode, 206);
  assert.equal(part.headers['content-range'], `bytes 24-63/${collection.length}`);
  assert.ok(part.rawPayload.equals(collection.subarray(24, 64)));
  assert.match(String(part.headers['content-disposition']), /filename="hourly-20261207T103000\.000Z\.pcap"/);
  const missing = await env.app.inject({ url: `${url.slice(0, -5)}1.pcap`, headers: env.as('operator') });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().error.code, 'CAPTURE_NOT_FOUND');
  const { signLink } = await import('../../src/auth/signed-link.ts');
  const link = signLink(env.linkKey, { runId: 's1', expiresAt: Date.now() + 60_000 });
  const linked = await env.app.inject({
    url: `/api/v1/runs/s1/artifacts/capture.pcap?exp=${link.exp}&sig=${link.sig}`,
    headers: { range: 'bytes=-24' },
  });
  assert.equal(linked.statusCode, 206);
  assert.ok(linked.rawPayload.equals(slice.subarray(slice.length - 24)));
});

test('path traversal and malformed ids or names are refused with a 400 that names the parameter', async () => {
  const cases: Array<[string, string]> = [
    ['/api/v1/runs/s1/artifacts/%2E%2E%2F%2E%2E%2Fsecret.txt', 'name'],
    ['/api/v1/runs/s1/artifacts/..%2f..%2f..%2fsecret.txt', 'name'],
    ['/api/v1/runs/s1/artifacts/..%5c..%5csecret.txt', 'name'],
    ['/api/v1/runs/s1/artifacts/capture.pcap%00', 'name'],
    ['/api/v1/runs/s1/artifacts/.capture.pcap', 'name'],
    ['/api/v1/runs/s1%2F..%2F..%2F/artifacts/capture.pcap', 'runId'],
    ['/api/v1/runs/a%20b', 'runId'],
    ['/api/v1/runs/%2e%2e%2fs1/bundle', 'runId'],
    ['/api/v1/captures/collections/hourly/..%2f..%2f..%2fsecret.txt', 'file'],
    ['/api/v1/captures/collections/hourly/..%2f..%2fruns%2fs1%2fcapture.pcap', 'file'],
    ['/api/v1/captures/collections/-hourly/x.pcap', 'id'],
  ];
  for (const [url, parameter] of cases) {
    const response = await env.app.inject({ url, headers: env.as('operator') });
    assert.equal(response.statusCode, 400, `${url}: ${response.statusCode} ${response.body}`);
    assert.match(
      response.json().error.message,
      new RegExp(`^path parameter "${parameter}" must be letters, digits`),
      url,
    );
  }
});

test('dot segments sent raw on the wire reach no artifact', async () => {
  // inject() resolves `..` and `%2e%2e` segments as a browser would; a raw request line does not.
  await env.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = env.app.server.address() as AddressInfo;
  const token = env.as('operator').authorization;
  const cases: Array<[string, RegExp]> = [
    ['/api/v1/runs/s1/artifacts/../../../secret.txt', /^HTTP\/1\.1 404 /],
    ['/api/v1/captures/collections/hourly/../../../secret.txt', /^HTTP\/1\.1 404 /],
    ['/api/v1/runs/s1/artifacts/%2e%2e', /^HTTP\/1\.1 400 [\s\S]*path parameter \\"name\\"/],
    ['/api/v1/runs/%2e%2e/artifacts/secret.txt', /^HTTP\/1\.1 400 [\s\S]*path parameter \\"runId\\"/],
    ['/api/v1/captures/collections/%2E%2E/secret.txt', /^HTTP\/1\.1 400 [\s\S]*path parameter \\"id\\"/],
    ['/api/v1/captures/collections/hourly/%2e%2e', /^HTTP\/1\.1 400 [\s\S]*path parameter \\"file\\"/],
  ];
  for (const [path, expected] of cases) {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${token}\r\nConnection: close\r\n\r\n`,
        ),
      );
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk;
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, expected, path);
    assert.doesNotMatch(answer, /do not serve me/, path);
  }
});
