/**
 * Child process of bench/probes.ts, "worker" mode: the whole production path for `count`
 * runs of one check — BullMQ job fetched from Redis, probe run, result stored in Redis.
 * Jobs are queued before the measurement starts, and the first WARM_UP runs are not measured
 * (JIT compilation, as the probe loop's and the exporter's warm-up): the CPU printed is this
 * process's only, over `count` runs in steady state (Redis's own CPU is measured by the
 * parent from /proc).
 * Usage: tsx bench/worker-loop.ts '<check json>' <count> <concurrency> <redisUrl>
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { parseConfig } from '../src/config/load-config.ts';
import { createRedisConnection } from '../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../src/results/results-recorder.ts';
import { newRunNonce, queueName, type RunJobData } from '../src/scheduler/run-queue.ts';
import { createLogger } from '../src/util/logger.ts';
import { startRunWorker } from '../workers/run-worker.ts';

const [checkJson, countText, concurrencyText, redisUrl] = process.argv.slice(2);
const count = Number(countText);
const WARM_UP = 500;
const prefix = `pwbench-${randomBytes(4).toString('hex')}`;
const config = await parseConfig(
  { locations: { bench: {} }, checks: [JSON.parse(checkJson)], redis: { prefix } },
  '/tmp/bench.yaml',
);
const connection = createRedisConnection(redisUrl);
const queue = new Queue<RunJobData>(queueName('runs', 'bench'), { connection, prefix });
const jobs = Array.from({ length: WARM_UP + count }, () => ({
  name: 'run',
  // As the scheduler and "run now" make them: the nonce is set where the job is made.
  data: { checkId: 'bench', location: 'bench', runNonce: newRunNonce() },
  opts: { removeOnComplete: true },
}));
for (let index = 0; index < jobs.length; index += 1000) await queue.addBulk(jobs.slice(index, index + 1000));
let warmed = 0;
let done = 0;
let passed = 0;
let cpuBefore = process.cpuUsage();
let wallBefore = performance.now();
const finished = new Promise<void>((resolve) => {
  const worker = startRunWorker({
    config,
    location: 'bench',
    connection: createRedisConnection(redisUrl),
    recorder: new ResultsRecorder(createRedisConnection(redisUrl, { autoPipelining: true }), config),
    logger: createLogger('bench', 'silent'),
    concurrency: Number(concurrencyText),
    onResult: (result) => {
      warmed++;
      if (warmed <= WARM_UP) {
        if (warmed === WARM_UP) {
          cpuBefore = process.cpuUsage();
          wallBefore = performance.now();
        }
        return;
      }
      done++;
      if (result.status === 'pass') passed++;
      if (done === count) void worker.close().then(() => resolve());
    },
  });
});
await finished;
const cpu = process.cpuUsage(cpuBefore);
console.log(
  JSON.stringify({
    count,
    passed,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds: (performance.now() - wallBefore) / 1000,
  }),
);
// Leave nothing behind in the shared Redis.
let cursor = '0';
do {
  const [next, keys] = await connection.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
  cursor = next;
  if (keys.length > 0) await connection.unlink(...keys);
} while (cursor !== '0');
await queue.close();
process.exit(0);
