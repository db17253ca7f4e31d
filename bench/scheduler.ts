/**
 * 10,000 checks at a 60 s interval on one Redis: how long the config sync takes, how late
 * runs start (schedule lag = startedAt − scheduledAt, p50/p99) and Redis memory per check.
 * The probe is a tcp connect to a loopback server that accepts and closes (the nearest to a
 * no-op that still goes through the registry). One process runs the scheduler and a worker,
 * as `pathwatch start` does, on a private redis-server.
 *
 *   npx tsx bench/scheduler.ts [--checks 10000] [--interval 60s] [--seconds 90] [--concurrency 50]
 */
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../src/config/load-config.ts';
import { startPrivateRedisServer } from '../src/redis/private-redis-server.ts';
import { createRedisConnection } from '../src/redis/redis-connection.ts';
import type { RunResult } from '../src/results/run-result.ts';
import { createLogger } from '../src/util/logger.ts';
import { startStack } from '../workers/start-stack.ts';

const { values } = parseArgs({
  options: {
    checks: { type: 'string', default: '10000' },
    interval: { type: 'string', default: '60s' },
    seconds: { type: 'string', default: '90' },
    concurrency: { type: 'string', default: '50' },
  },
});
const CHECKS = Number(values.checks);
const SECONDS = Number(values.seconds);

function percentile(sorted: number[], quantile: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * quantile))] ?? Number.NaN;
}

async function usedMemory(redis: ReturnType<typeof createRedisConnection>): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

const target = net.createServer((socket) => socket.end());
target.listen(0, '127.0.0.1');
await once(target, 'listening');
const port = (target.address() as net.AddressInfo).port;
const dataDir = mkdtempSync(join(tmpdir(), 'pathwatch-bench-scheduler-'));
const redisServer = await startPrivateRedisServer(dataDir);
const redis = createRedisConnection(redisServer.url);
const config = await parseConfig(
  {
    locations: { bench: {} },
    defaults: { interval: values.interval, timeout: '5s', retries: 0 },
    checks: Array.from({ length: CHECKS }, (_, index) => ({
      id: `c${index}`,
      kind: 'tcp',
      tcp: { host: '127.0.0.1', port },
    })),
    workers: { probeConcurrency: Number(values.concurrency) },
    dataDir,
  },
  join(dataDir, 'bench.yaml'),
);
const memoryBefore = await usedMemory(redis);
const lags: number[] = [];
let failures = 0;
const syncStarted = performance.now();
const stack = await startStack({
  config,
  logger: createLogger('bench', 'warn'),
  roles: { api: false, scheduler: true, workerLocations: ['bench'] },
  redisUrl: redisServer.url,
  onResult: (result: RunResult) => {
    if (result.scheduledAt !== undefined) lags.push(result.startedAt - result.scheduledAt);
    if (result.status !== 'pass') failures++;
  },
});
const syncSeconds = (performance.now() - syncStarted) / 1000;
const memoryAfterSync = await usedMemory(redis);
const cpuBefore = process.cpuUsage();
await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
const cpu = process.cpuUsage(cpuBefore);
const memoryAfterRuns = await usedMemory(redis);
await stack.stop();
redis.disconnect();
await redisServer.stop();
target.close();

const sorted = [...lags].sort((a, b) => a - b);
console.log(
  `\n${CHECKS} checks every ${values.interval}, ${SECONDS} s measured, worker concurrency ${values.concurrency}`,
);
console.log(
  `config sync (upsert of ${CHECKS} job schedulers, spread over the interval): ${syncSeconds.toFixed(1)} s`,
);
console.log(
  `runs: ${lags.length} (${(lags.length / SECONDS).toFixed(0)}/s; expected ${(CHECKS / (config.checks[0].interval / 1000)).toFixed(0)}/s), not passing: ${failures}`,
);
console.log(
  `schedule lag: p50 ${percentile(sorted, 0.5)} ms, p99 ${percentile(sorted, 0.99)} ms, max ${sorted.at(-1)} ms (goal: p99 under 1000 ms)`,
);
console.log(
  `redis memory per check: ${((memoryAfterSync - memoryBefore) / CHECKS).toFixed(0)} B after sync (schedulers + next jobs), ${((memoryAfterRuns - memoryBefore) / CHECKS).toFixed(0)} B after the runs (plus stored results and state)`,
);
console.log(
  `pathwatch process CPU while running: ${(((cpu.user + cpu.system) / 1e6 / SECONDS) * 100).toFixed(0)}% of one core`,
);
