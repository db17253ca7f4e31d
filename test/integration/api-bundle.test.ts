import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { ArtifactStore } from '../../src/artifacts/artifact-store.ts';
import { signLink } from '../../src/auth/signed-link.ts';
import { runRecord, startEvidenceApp, writeSyntheticPcap } from '../helpers/evidence-app.ts';

/**
 * Issue 13, done-when 3: a run's escalation bundle unzips to the listed files, the manifest's
 * hashes match, the pcap inside opens with tshark; its texts place the run in its slot and
 * series; it streams (the first byte before a 50 MB slice is read).
 */
const run = promisify(execFile);
const SECRET = 'Sh0p-T0ken-value-9f1c';
const SLOT = Date.UTC(2026, 11, 7, 14, 32, 0);
const MINUTE = 60_000;
const BIG = 50 * 1024 * 1024;
/** Bytes the store's streams of the big slice have handed out, to see when the first byte left. */
let bigBytesRead = 0;
let env: Awaited<ReturnType<typeof startEvidenceApp>>;
const fixturePcap = readFileSync(new URL('../fixtures/pcap/tls-protocol-version-sll2.pcap', import.meta.url));

/** The real store, with the bytes read from the big slice counted on their way out. */
function countingStore(store: ArtifactStore): ArtifactStore {
  return {
    put: (...args) => store.put(...args),
    list: (prefix) => store.list(prefix),
    delete: (key) => store.delete(key),
    async get(key, range) {
      const found = await store.get(key, range);
      if (!found || key !== 'runs/big/capture.pcap') return found;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          bigBytesRead += chunk.length;
          callback(null, chunk);
        },
      });
      return { ...found, stream: found.stream.pipe(counter) };
    },
  };
}

before(async () => {
  env = await startEvidenceApp('bundle', { env: { SHOP_TOKEN: SECRET }, wrapStore: countingStore });
  const { store, recorder } = env;
  const put = async (runId: string, name: string, data: Buffer | string, type: string, kind: string) => {
    const stored = await store.put(`runs/${runId}/${name}`, Buffer.from(data), type);
    return { kind, key: stored.key, bytes: stored.bytes, contentType: type };
  };
  const sliceOf = async (runId: string, diagnosis: string) => [
    await put(runId, 'capture.pcap', fixturePcap, 'application/vnd.tcpdump.pcap', 'pcap'),
    await put(runId, 'capture-analysis.json', JSON.stringify({ diagnosis }), 'application/json', 'analysis'),
    await put(runId, 'capture-analysis.txt', `Diagnosis: ${diagnosis}\nFlows: 1\n`, 'text/plain', 'analysis'),
  ];
  const failure = {
    class: 'tls' as const,
    code: 'TLS_HANDSHAKE' as const,
    message: 'TLS handshake with 127.0.0.1:4601 failed: protocol version (Authorization: Bearer ***)',
    phase: 'tls',
  };
  await recorder.runs.save(
    runRecord({
      runId: 'b-in',
      scheduledAt: SLOT,
      intervalMs: MINUTE,
      startedAt: SLOT + 40,
      status: 'fail',
      error: failure,
      peers: [{ ip: '127.0.0.1', port: 4601 }],
      artifacts: [
        ...(await sliceOf('b-in', 'the server refused TLS 1.2 with a protocol_version alert')),
        await put('b-in', 'trace.zip', 'PK-trace', 'application/zip', 'trace'),
        await put('b-in', 'network.har', '{"log":{"entries":[]}}', 'application/json', 'har'),
        await put('b-in', 'failure.png', 'png-bytes', 'image/png', 'screenshot'),
        // Listed on the run, but retention has deleted it since.
        { kind: 'screenshot', key: 'runs/b-in/gone.png', bytes: 3 },
      ],
    }),
  );
  await recorder.runs.save(
    runRecord({
      runId: 'b-out',
      location: 'outside',
      scheduledAt: SLOT,
      intervalMs: MINUTE,
      startedAt: SLOT + 900,
      status: 'fail',
      error: failure,
      artifacts: [
        ...(await sliceOf('b-out', 'the same alert from outside')),
        await put('b-out', 'trace.zip', 'other-trace', 'application/zip', 'trace'),
      ],
    }),
  );
  // Neighbours in the inside series, one outside, and another check in the same slot.
  for (const offset of [-3, -2, -1, 1, 2]) {
    await recorder.runs.save(
      runRecord({
        runId: `n${offset + 3}`,
        scheduledAt: SLOT + offset * MINUTE,
        startedAt: SLOT + offset * MINUTE + 40,
      }),
    );
  }
  await recorder.runs.save(
    runRecord({
      runId: 'o-prev',
      location: 'outside',
      scheduledAt: SLOT - MINUTE,
      startedAt: SLOT - MINUTE + 30,
    }),
  );
  await recorder.runs.save(
    runRecord({
      runId: 'api-same-slot',
      checkId: 'api',
      kind: 'tcp',
      scheduledAt: SLOT,
      startedAt: SLOT + 10,
    }),
  );
  const bigPath = join(env.dir, 'big.pcap');
  await writeSyntheticPcap(bigPath, BIG);
  const big = await env.store.put(
    'runs/big/capture.pcap',
    readFileSync(bigPath),
    'application/vnd.tcpdump.pcap',
  );
  await recorder.runs.save(
    runRecord({
      runId: 'big',
      checkId: 'api',
      kind: 'tcp',
      scheduledAt: SLOT + 10 * MINUTE,
      startedAt: SLOT + 10 * MINUTE,
      status: 'fail',
      artifacts: [{ kind: 'pcap', key: big.key, bytes: big.bytes }],
    }),
  );
});

after(async () => {
  await env?.close();
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((path) => statSync(join(dir, path)).isFile())
    .map((path) => relative(dir, join(dir, path)))
    .sort();
}

test('a bundle unzips to the listed files, the manifest hashes match, and its pcap opens with tshark', async () => {
  const response = await env.app.inject({
    url: '/api/v1/runs/b-in/bundle?tz=Asia/Tokyo',
    headers: env.as('operator'),
  });
  assert.equal(response.statusCode, 200, response.body.slice(0, 300));
  assert.equal(response.headers['content-type'], 'application/zip');
  assert.match(String(response.headers['content-disposition']), /filename="pathwatch-shop-b-in\.zip"/);
  const zipPath = join(env.dir, 'b-in.zip');
  writeFileSync(zipPath, response.rawPayload);
  const out = join(env.dir, 'b-in');
  mkdirSync(out);
  await run('unzip', ['-q', zipPath, '-d', out]);
  const expected = [
    'manifest.json',
    'run/failure.png',
    'run/network.har',
    'run/trace.zip',
    'slices/inside/b-in/capture-analysis.json',
    'slices/inside/b-in/capture-analysis.txt',
    'slices/inside/b-in/capture.pcap',
    'slices/outside/b-out/capture-analysis.json',
    'slices/outside/b-out/capture-analysis.txt',
    'slices/outside/b-out/capture.pcap',
    'summary.txt',
    'timeline.txt',
  ];
  assert.deepEqual(filesUnder(out), expected);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual(
    manifest.files.map((file: { path: string }) => file.path).sort(),
    expected.filter((path) => path !== 'manifest.json'),
  );
  for (const file of manifest.files as Array<{ path: string; bytes: number; sha256: string }>) {
    const data = readFileSync(join(out, file.path));
    assert.equal(file.bytes, data.length, file.path);
    assert.equal(file.sha256, sha256(data), file.path);
  }
  assert.deepEqual(manifest.missing, ['runs/b-in/gone.png']);
  assert.equal(manifest.timeZone, 'Asia/Tokyo');
  assert.ok(readFileSync(join(out, 'slices/inside/b-in/capture.pcap')).equals(fixturePcap));
  assert.equal(readFileSync(join(out, 'run/trace.zip'), 'utf8'), 'PK-trace');

  if (!existsSync('/usr/bin/tshark')) {
    console.log('# tshark is not installed: the pcap-opens check is skipped');
  } else {
    const { stdout } = await run('tshark', ['-r', join(out, 'slices/inside/b-in/capture.pcap')]);
    assert.equal(stdout.trim().split('\n').length, 10, stdout);
    assert.match(stdout, /Alert/);
  }

  // Secrets stay masked: nothing in the bundle holds the resolved value.
  for (const path of expected) assert.ok(!readFileSync(join(out, path)).includes(SECRET), path);

  const summary = readFileSync(join(out, 'summary.txt'), 'utf8');
  assert.match(summary, /http check "Shop health" \(shop\) at inside: fail TLS_HANDSHAKE: TLS handshake/);
  assert.match(summary, /It failed in the tls phase\./);
  assert.match(summary, /Remote peers: 127\.0\.0\.1:4601/);
  assert.match(
    summary,
    /Scheduled {2}2026-12-07 14:32:00\.000 UTC \(2026-12-07 23:32:00\.000 \+09:00 Asia\/Tokyo\)/,
  );
  assert.match(summary, /inside \(Frankfurt data centre, rack 4\), host probe-1: fail TLS_HANDSHAKE/);
  assert.match(
    summary,
    /outside \(a cloud in Tokyo\), host probe-1: fail .*\[120 ms; capture slices\/outside\/b-out\/capture\.pcap/,
  );
  assert.match(
    summary,
    /slices\/inside\/b-in\/capture\.pcap \(inside\):\n {4}Diagnosis: the server refused TLS 1\.2/,
  );
  assert.match(summary, /Diagnosis: the same alert from outside/);
  assert.match(summary, /NOT INCLUDED[^\n]*\n {2}runs\/b-in\/gone\.png/);
  assert.match(summary, /Bearer \*\*\*/);

  const timeline = readFileSync(join(out, 'timeline.txt'), 'utf8');
  assert.match(timeline, /Times are in UTC and in Asia\/Tokyo/);
  // The slot: both locations, not the other check's run.
  const slot = timeline.slice(timeline.indexOf('The slot'), timeline.indexOf('The series'));
  assert.match(
    slot,
    /^ {2}> +inside +1 +2026-12-07 14:32:00\.040 UTC +2026-12-07 23:32:00\.040 \+09:00 +120 +b-in +fail TLS_/m,
  );
  assert.match(slot, /^ +outside +1 +2026-12-07 14:32:00\.900 UTC .* b-out +fail/m);
  assert.doesNotMatch(slot, /api-same-slot|o-prev|n2/);
  const series = timeline.slice(timeline.indexOf('The series'));
  const order = ['n0', 'n1', 'n2', 'b-in', 'n4', 'n5'].map((id) => series.indexOf(` ${id} `));
  assert.ok(
    order.every((at, index) => at > 0 && (index === 0 || at > order[index - 1])),
    `series out of order:\n${series}`,
  );
  assert.doesNotMatch(series, /b-out|o-prev/);
});

test('the bundle opens through a signed link for that run only; bad tz and run ids are refused', async () => {
  const link = signLink(env.linkKey, { runId: 'b-in', expiresAt: Date.now() + 60_000 });
  const linked = await env.app.inject({ url: `/api/v1/runs/b-in/bundle?exp=${link.exp}&sig=${link.sig}` });
  assert.equal(linked.statusCode, 200, linked.body.slice(0, 200));
  assert.equal(linked.rawPayload.subarray(0, 4).toString('hex'), '504b0304');
  const other = await env.app.inject({ url: `/api/v1/runs/b-out/bundle?exp=${link.exp}&sig=${link.sig}` });
  assert.equal(other.statusCode, 403);
  assert.equal(other.json().error.code, 'LINK_INVALID');
  const expired = signLink(env.linkKey, { runId: 'b-in', expiresAt: Date.now() - 1000 });
  const gone = await env.app.inject({
    url: `/api/v1/runs/b-in/bundle?exp=${expired.exp}&sig=${expired.sig}`,
  });
  assert.equal(gone.statusCode, 410);
  assert.equal((await env.app.inject({ url: '/api/v1/runs/b-in/bundle' })).statusCode, 401);
  assert.equal(
    (await env.app.inject({ url: '/api/v1/runs/b-in/bundle', headers: env.as('viewer') })).statusCode,
    403,
  );

  const badZone = await env.app.inject({
    url: '/api/v1/runs/b-in/bundle?tz=Mars/Olympus',
    headers: env.as('operator'),
  });
  assert.equal(badZone.statusCode, 400);
  assert.match(
    badZone.json().error.message,
    /^query parameter "tz" must be an IANA time zone such as "Europe\/Berlin" or "UTC", got "Mars\/Olympus"$/,
  );
  const utc = await env.app.inject({ url: '/api/v1/runs/b-out/bundle', headers: env.as('operator') });
  assert.equal(utc.statusCode, 200);
  const unknown = await env.app.inject({ url: '/api/v1/runs/nope/bundle', headers: env.as('operator') });
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().error.code, 'RUN_NOT_FOUND');
  const malformed = await env.app.inject({ url: '/api/v1/runs/-x/bundle', headers: env.as('operator') });
  assert.equal(malformed.statusCode, 400);
});

test('the bundle streams: its first byte leaves before the 50 MB slice is read', async () => {
  await env.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = env.app.server.address() as AddressInfo;
  const started = performance.now();
  let firstByteMs = 0;
  let readAtFirstByte = -1;
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    get(
      { host: '127.0.0.1', port, path: '/api/v1/runs/big/bundle', headers: env.as('operator') },
      (response: Readable & { statusCode?: number }) => {
        assert.equal(response.statusCode, 200);
        response.on('data', (chunk: Buffer) => {
          if (readAtFirstByte < 0) {
            firstByteMs = performance.now() - started;
            readAtFirstByte = bigBytesRead;
          }
          chunks.push(chunk);
        });
        response.on('end', resolve);
        response.on('error', reject);
      },
    ).on('error', reject);
  });
  const totalMs = performance.now() - started;
  const zip = Buffer.concat(chunks);
  console.log(
    `# bundle of a ${BIG} byte slice: first byte after ${firstByteMs.toFixed(0)} ms (${readAtFirstByte} bytes of the slice read by then), whole zip (${zip.length} bytes) after ${totalMs.toFixed(0)} ms`,
  );
  assert.ok(
    readAtFirstByte >= 0 && readAtFirstByte < BIG / 2,
    `first byte after ${readAtFirstByte} bytes read`,
  );
  // And the whole slice went in, byte for byte.
  const zipPath = join(env.dir, 'big.zip');
  writeFileSync(zipPath, zip);
  const { stdout } = await run('unzip', ['-p', zipPath, 'slices/inside/big/capture.pcap'], {
    encoding: 'buffer',
    maxBuffer: 2 * BIG,
  });
  assert.equal(sha256(stdout), sha256(readFileSync(join(env.dir, 'big.pcap'))));
});
