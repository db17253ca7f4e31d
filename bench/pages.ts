/**
 * Console pages at scale: 1,000 checks × 2 locations with a week of hourly history, on a
 * private redis-server; the status page (whole, and the table its refresh asks for) and a
 * check page (a day and a week of it) timed
 * from request to last byte, median and worst of several rounds, beside the JSON of
 * GET /api/v1/checks over the same checks (the API a hand-made dashboard would poll).
 * Goal (issue 15): each page ready in under 1 s.
 *
 *   npx tsx bench/pages.ts [--checks 1000] [--rounds 7]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp } from '../src/api/build-app.ts';
import { parseConfig } from '../src/config/load-config.ts';
import { startPrivateRedisServer } from '../src/redis/private-redis-server.ts';
import { createRedisConnection } from '../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../src/results/results-recorder.ts';
import { runOf } from '../test/helpers/alert-pipeline.ts';

const { values } = parseArgs({
  options: { checks: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '7' } },
});
const CHECKS = Number(values.checks);
const ROUNDS = Number(values.rounds);
const LOCATIONS = ['inside', 'outside'];
const HOUR_MS = 3_600_000;

async function timeGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  const response = await fetch(url, { headers });
  const body = await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return { ms: performance.now() - started, bytes: body.byteLength };
}

const dir = mkdtempSync(join(tmpdir(), 'pw-bench-pages-'));
const server = await startPrivateRedisServer(dir);
const redis = createRedisConnection(server.url);
try {
  const ids = Array.from({ length: CHECKS }, (_, index) => `check-${String(index).padStart(4, '0')}`);
  const config = await parseConfig(
    {
      locations: { inside: {}, outside: {} },
      checks: ids.map((id, index) => ({
        id,
        kind: 'http',
        tags: [index % 10 === 0 ? 'payments' : 'web'],
        http: { url: 'http://127.0.0.1:1/' },
      })),
      redis: { prefix: 'bench-pages' },
      dataDir: join(dir, 'data'),
    },
    join(dir, 'bench.yaml'),
  );
  const recorder = new ResultsRecorder(redis, config);
  const stops = LOCATIONS.map((location) => recorder.workers.start(location));
  // A week of hourly rollups per check × location, written as the rollup store keeps them.
  const now = Date.now();
  const current = now - (now % HOUR_MS);
  const seed = redis.pipeline();
  for (const id of ids) {
    for (const location of LOCATIONS) {
      for (let hour = 0; hour < 7 * 24; hour++) {
        const key = `bench-pages:rollup:${id}:${location}:${current - hour * HOUR_MS}`;
        seed.hset(key, 'count', 60, 'failures', hour % 50 === 0 ? 3 : 0, 'b5', 50, 'b6', 10);
        seed.pexpire(key, 8 * 86_400_000);
      }
    }
  }
  await seed.exec();
  for (const [index, id] of ids.entries()) {
    for (const location of LOCATIONS) {
      await recorder.recordRun(
        runOf(id, location, index % 97 === 0 && location === 'outside' ? 'fail' : 'pass'),
        {
          counted: true,
          policy: { downAfter: 1, upAfter: 1 },
          locations: LOCATIONS,
        },
      );
    }
  }
  const app = await buildApp({ config, recorder, redis, linkKey: Buffer.alloc(32, 1) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const cases: Array<[string, string, Record<string, string>]> = [
    ['status page', `${base}/?lang=en`, {}],
    ['status table (refresh)', `${base}/?lang=en`, { 'x-pathwatch-fragment': 'status-table' }],
    ['status, filtered by tag', `${base}/?lang=en&tag=payments`, {}],
    ['check page (a day)', `${base}/checks/check-0000?lang=en`, {}],
    ['check page (a week)', `${base}/checks/check-0000?lang=en&hours=168`, {}],
    ['peer: GET /api/v1/checks', `${base}/api/v1/checks`, {}],
  ];
  const results: Record<string, { median: number; worst: number; bytes: number }> = {};
  for (const [name, url, headers] of cases) {
    await timeGet(url, headers); // warm: templates compiled, connections open
    const times: number[] = [];
    let bytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const timed = await timeGet(url, headers);
      times.push(timed.ms);
      bytes = timed.bytes;
    }
    times.sort((a, b) => a - b);
    results[name] = { median: times[Math.floor(times.length / 2)], worst: times.at(-1) ?? 0, bytes };
  }
  console.log(
    `${CHECKS} checks × ${LOCATIONS.length} locations, a week of hourly history; ${ROUNDS} rounds each`,
  );
  for (const [name, result] of Object.entries(results)) {
    console.log(
      `${name.padEnd(26)} median ${result.median.toFixed(0).padStart(5)} ms  worst ${result.worst.toFixed(0).padStart(5)} ms  ${(result.bytes / 1024).toFixed(0)} KiB`,
    );
  }
  const peer = results['peer: GET /api/v1/checks'];
  const page = results['status page'];
  console.log(`ratio status page / API JSON: ${(page.median / peer.median).toFixed(2)}×`);
  const check = results['check page (a week)'];
  const verdict = (worst: number) => `${worst < 1000 ? 'met' : 'NOT met'} (worst ${worst.toFixed(0)} ms)`;
  console.log(`goal each page under 1000 ms: status ${verdict(page.worst)}, check ${verdict(check.worst)}`);
  await app.close();
  for (const stop of stops) await stop();
} finally {
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
