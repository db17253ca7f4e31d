/**
 * Reports (issue 15): a month's report for 1,000 checks × 2 locations from a month of
 * hourly rollups (1.44 million hashes, written as rollup-store.ts writes them) in a private
 * Redis. Three figures:
 *
 * - cold: the first report, every hour of every series read (what a report without day
 *   summaries always costs: the naive peer), keeping a summary per series and finished day;
 * - warm: the same report again, whole days from their summaries, the rest by the hour;
 * - maintenance: warm, with a nightly 30-minute window over half of the checks (their days
 *   are read by the hour, the covered hours counted in part).
 *
 * Goal: well under a second warm. Measured on this machine (2 cores, shared, load ~2):
 * cold 5.3–6.8 s, warm 0.32–0.37 s, maintenance 0.48–0.62 s.
 *
 *   npx tsx bench/reports.ts [--checks 1000] [--repeat 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { MaintenanceCalendar } from '../src/alerts/maintenance-calendar.ts';
import { startPrivateRedisServer } from '../src/redis/private-redis-server.ts';
import { computeReport, type ReportItem } from '../src/reports/compute-report.ts';
import { HOUR_MS, reportWindow } from '../src/reports/report-window.ts';
import { RollupReader } from '../src/reports/rollup-reader.ts';
import { bucketIndex } from '../src/results/latency-histogram.ts';
import { ResultStore } from '../src/results/result-store.ts';

const { values } = parseArgs({
  options: { checks: { type: 'string', default: '1000' }, repeat: { type: 'string', default: '3' } },
});
const CHECKS = Number(values.checks);
const REPEAT = Number(values.repeat);
const LOCATIONS = ['inside', 'outside'];
const PREFIX = 'bench';
const KEEP_DAYS = 31;

const dir = mkdtempSync(join(tmpdir(), 'pathwatch-bench-reports-'));
const server = await startPrivateRedisServer(dir);
const redis = new Redis(server.url);
try {
  const items: ReportItem[] = Array.from({ length: CHECKS }, (_, index) => ({
    id: `c${index}`,
    name: `check ${index}`,
    kind: 'http',
    locations: LOCATIONS,
    tags: index % 2 === 0 ? ['nightly'] : [],
  }));
  const now = Date.now();
  const window = reportWindow('month', now);
  const started = performance.now();
  // A minute interval: 60 runs an hour, a few failures and four latency buckets.
  let pipeline = redis.pipeline();
  let queued = 0;
  for (const item of items)
    for (const location of LOCATIONS)
      for (let hour = window.from; hour < window.to; hour += HOUR_MS) {
        const key = `${PREFIX}:rollup:${item.id}:${location}:${hour}`;
        const failures = (hour / HOUR_MS + item.id.length) % 7 === 0 ? 2 : 0;
        pipeline.hset(key, {
          count: 60,
          failures,
          [`b${bucketIndex(40)}`]: 30,
          [`b${bucketIndex(90)}`]: 20,
          [`b${bucketIndex(200)}`]: 9,
          [`b${bucketIndex(3000)}`]: 1,
        });
        if (++queued % 20_000 === 0) {
          await pipeline.exec();
          pipeline = redis.pipeline();
        }
      }
  await pipeline.exec();
  console.log(
    `${queued} hourly rollups written in ${((performance.now() - started) / 1000).toFixed(1)} s (${CHECKS} checks × ${LOCATIONS.length} locations × ${(window.to - window.from) / HOUR_MS} h)`,
  );

  const sources = {
    reader: new RollupReader(redis, PREFIX, KEEP_DAYS),
    runs: new ResultStore(redis, { prefix: PREFIX }),
    runsPerSeries: 200,
    keepDays: KEEP_DAYS,
  };
  const time = async (
    label: string,
    extra: Partial<typeof sources> & { maintenance?: MaintenanceCalendar },
  ) => {
    const figures: number[] = [];
    let checksum = 0;
    for (let round = 0; round < (label === 'cold' ? 1 : REPEAT); round++) {
      const start = performance.now();
      const report = await computeReport({ ...sources, ...extra }, { items, window, target: 99.9, now });
      figures.push(performance.now() - start);
      checksum = report.checks.reduce((sum, check) => sum + check.total.runs, 0);
    }
    console.log(
      `${label.padEnd(12)} ${figures.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}  (runs counted: ${checksum})`,
    );
  };
  await time('cold', {});
  await time('warm', {});
  const maintenance = new MaintenanceCalendar(redis, PREFIX, [
    { name: 'nightly', cron: '0 2 * * *', duration: 30 * 60_000, timezone: 'UTC', tags: ['nightly'] },
  ]);
  await time('maintenance', { maintenance });
  console.log(`Redis memory after: ${(await redis.info('memory')).match(/used_memory_human:(\S+)/)?.[1]}`);
} finally {
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
