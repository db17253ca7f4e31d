import type { Queue, Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { startRunWorker } from '../../workers/run-worker.ts';
import { buildApp } from '../api/build-app.ts';
import type { RunResult } from '../checks/run-result.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import { createRedisConnection, redactUrl } from '../redis/redis-connection.ts';
import { ResultStore } from '../results/result-store.ts';
import { openRunQueue, type RunJobData } from '../scheduler/run-queue.ts';
import { syncSchedulers } from '../scheduler/sync-schedulers.ts';
import type { Logger } from '../util/logger.ts';
import { resolveRedis } from './resolve-redis.ts';

export interface StackRoles {
  api: boolean;
  scheduler: boolean;
  /** Locations to run workers for; empty for none. */
  workerLocations: string[];
}

export interface StartStackOptions {
  config: LoadedConfig;
  logger: Logger;
  roles: StackRoles;
  /** REDIS_URL; unset starts a private redis-server under the data dir. */
  redisUrl?: string;
  /** Overrides `api.port` (0 picks a free port). */
  apiPort?: number;
  onResult?: (result: RunResult) => void;
}

export interface RunningStack {
  redisUrl: string;
  apiUrl?: string;
  /** Finishes in-flight runs, then closes everything it opened, in reverse order. */
  stop(): Promise<void>;
}

/**
 * Starts the roles asked for on one Redis. Redis is resolved first so that a missing or
 * unreachable Redis fails before anything else has started.
 */
export async function startStack(options: StartStackOptions): Promise<RunningStack> {
  const { config, logger, roles } = options;
  const redis = await resolveRedis(options.redisUrl, config.dataDir);
  const stoppers: Array<() => Promise<unknown>> = [];
  if (redis.privateServer) stoppers.push(() => redis.privateServer!.stop());
  const connections: Redis[] = [];
  const connect = () => {
    const connection = createRedisConnection(redis.url);
    connection.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
    connections.push(connection);
    return connection;
  };
  stoppers.push(async () => {
    await Promise.all(
      connections.map((connection) => connection.quit().catch(() => connection.disconnect())),
    );
  });
  const stop = async () => {
    for (const stopper of stoppers.reverse()) {
      await stopper().catch((error: Error) => logger.error({ err: error.message }, 'error while stopping'));
    }
  };
  try {
    const prefix = config.settings.redis.prefix;
    const store = new ResultStore(connect(), { prefix });
    let apiUrl: string | undefined;
    if (roles.scheduler) {
      const queueConnection = connect();
      const queues = new Map<string, Queue<RunJobData>>(
        config.locations.map((location) => [location, openRunQueue(location, queueConnection, prefix)]),
      );
      stoppers.push(() => Promise.all([...queues.values()].map((queue) => queue.close())));
      const report = await syncSchedulers(config, queues);
      logger.info(report, 'schedulers synced');
    }
    const workers: Worker[] = [];
    for (const location of roles.workerLocations) {
      workers.push(
        startRunWorker({
          config,
          location,
          connection: connect(),
          store,
          logger,
          onResult: options.onResult,
        }),
      );
    }
    // Workers close first on stop (stoppers run in reverse), and close() waits for the
    // runs they have in flight.
    stoppers.push(() => Promise.all(workers.map((worker) => worker.close())));
    if (roles.api) {
      const app: FastifyInstance = await buildApp({ config, store, logger });
      const address = await app.listen({
        host: config.settings.api.host,
        port: options.apiPort ?? config.settings.api.port,
      });
      apiUrl = address.replace('[::1]', 'localhost');
      stoppers.push(() => app.close());
    }
    logger.info({ redis: redactUrl(redis.url), apiUrl, workers: roles.workerLocations }, 'pathwatch started');
    return { redisUrl: redis.url, apiUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
