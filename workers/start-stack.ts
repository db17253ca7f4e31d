import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { CaptureAgent } from '../capture/capture-agent.ts';
import { openCaptureRequestQueue, startCaptureRequestWorker } from '../capture/capture-request-worker.ts';
import { PeriodicCollector } from '../capture/periodic-collection.ts';
import { alertItems } from '../src/alerts/alert-items.ts';
import { AlertOutbox } from '../src/alerts/alert-outbox.ts';
import { openAlertQueue } from '../src/alerts/alert-queue.ts';
import { AlertRouting } from '../src/alerts/alert-routing.ts';
import { buildApp } from '../src/api/build-app.ts';
import type { MonitoredItem } from '../src/api/routes/checks-routes.ts';
import type { ArtifactStore } from '../src/artifacts/artifact-store.ts';
import { DeliveringArtifactStore } from '../src/artifacts/delivering-artifact-store.ts';
import { FilesystemArtifactStore } from '../src/artifacts/filesystem-artifact-store.ts';
import { RetentionSchedule } from '../src/artifacts/retention-schedule.ts';
import type { LoadedConfig } from '../src/config/load-config.ts';
import type { ResolvedJourney } from '../src/journeys/load-journeys.ts';
import {
  createRedisConnection,
  type RedisConnectionOptions,
  redactUrl,
  waitUntilReady,
} from '../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../src/results/results-recorder.ts';
import type { RunResult } from '../src/results/run-result.ts';
import { startMissedSlotSweep } from '../src/scheduler/missed-slot-sweep.ts';
import {
  newRunNonce,
  openQueue,
  QUEUE_KINDS,
  type QueueKind,
  queueOfKind,
  type RunJobData,
} from '../src/scheduler/run-queue.ts';
import { scheduledItems, syncSchedulers } from '../src/scheduler/sync-schedulers.ts';
import { HOST_ID } from '../src/util/host-id.ts';
import type { Logger } from '../src/util/logger.ts';
import { startJourneyWorker } from './journey-worker.ts';
import { resolveRedis } from './resolve-redis.ts';
import { startRunWorker } from './run-worker.ts';
import { startAlerting } from './start-alerting.ts';

export interface StackRoles {
  api: boolean;
  scheduler: boolean;
  /** Locations to run workers for; empty for none. */
  workerLocations: string[];
}

export interface StartStackOptions {
  config: LoadedConfig;
  /** Journeys from the config's glob (loaded by the caller, so load errors come first). */
  journeys?: ResolvedJourney[];
  logger: Logger;
  roles: StackRoles;
  /** Extra Chromium flags for journey workers (tests keep Chromium on loopback). */
  extraBrowserArgs?: string[];
  /** REDIS_URL; unset starts a private redis-server under the data dir. */
  redisUrl?: string;
  /** Overrides `api.port` (0 picks a free port). */
  apiPort?: number;
  onResult?: (result: RunResult) => void;
}

export interface RunningStack {
  redisUrl: string;
  apiUrl?: string;
  /** Cancels in-flight runs (each stored as "cancelled by shutdown"), then closes everything it opened, in reverse order. */
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
  // Each connection logs one line when it is lost and one when it is back, by role.
  const connect = (role: string, options: Omit<RedisConnectionOptions, 'role' | 'logger'> = {}) => {
    const connection = createRedisConnection(redis.url, { ...options, role, logger });
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
    const recorder = new ResultsRecorder(connect('results', { autoPipelining: true }), config);
    let apiUrl: string | undefined;
    const journeys = options.journeys ?? [];
    let runNow: ((item: MonitoredItem) => Promise<string[]>) | undefined;
    let runNowConnection: Redis | undefined;
    const alerting = config.settings.alerting;
    if (alerting) {
      const routing = new AlertRouting(
        alerting,
        new Map(alertItems(config, journeys).map((item) => [item.id, item])),
      );
      // Workers queue the alerts of what they record; the queue closes after them (stoppers
      // run in reverse), so the last runs' alerts are queued.
      if (roles.workerLocations.length > 0) {
        const queue = openAlertQueue(connect('alerts'), prefix);
        recorder.alertOutbox = new AlertOutbox(queue, recorder.alerts, routing, logger);
        stoppers.push(() => queue.close());
      }
      // One process delivers them: the scheduler's, which every installation has once.
      if (roles.scheduler) {
        stoppers.push(await startAlerting({ config, alerting, routing, recorder, connect, prefix, logger }));
      }
    }
    if (roles.scheduler) {
      const queues = openEveryQueue(config.locations, connect('scheduler'), prefix);
      stoppers.push(() => closeEveryQueue(queues));
      const items = scheduledItems(config, journeys);
      const report = await syncSchedulers(items, queues);
      logger.info(report, 'schedulers synced');
      // Stopped before the queues close (stoppers run in reverse). It starts after the sync
      // returned: see its syncedAt.
      const sweep = startMissedSlotSweep({ items, queues, store: recorder.missedSlots, logger });
      stoppers.push(() => sweep.stop());
    }
    if (roles.scheduler && roles.api) {
      // "Run now" answers someone waiting, so it queues through a fail-fast connection of its
      // own, not the scheduler's (which waits for Redis): while Redis is away or hung the
      // request gets 503 REDIS_UNAVAILABLE within the request deadline, whichever connection
      // happens to be back first.
      const connection = connect('api run now', { failFast: true });
      runNowConnection = connection;
      const runNowQueues = openEveryQueue(config.locations, connection, prefix);
      stoppers.push(() => closeEveryQueue(runNowQueues));
      runNow = async (item) => {
        const kind = queueOfKind(item.kind);
        const jobs = await Promise.all(
          item.locations.map((location) =>
            runNowQueues
              .get(location)!
              [kind].add(
                'run-now',
                { checkId: item.id, location, requestedAt: Date.now(), runNonce: newRunNonce() },
                { removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } },
              ),
          ),
        );
        return jobs.map((job) => job.id ?? '');
      };
    }
    const closers: Array<() => Promise<void>> = [];
    const localArtifacts = new FilesystemArtifactStore(join(config.dataDir, 'artifacts'));
    const artifacts = await deliveringStoreFor(config, roles, localArtifacts, logger, stoppers);
    let capture: CaptureAgent | undefined;
    if (roles.workerLocations.length > 0 && config.settings.capture?.enabled) {
      capture = new CaptureAgent(
        config.settings.capture,
        join(config.dataDir, 'capture', 'ring'),
        artifacts,
        logger,
        // The API's traffic (its bearer tokens) never goes into a slice.
        { excludePorts: [config.settings.api.port] },
      );
      const { capturing } = await capture.start();
      // Pushed before the workers' closer, so it runs after them: slices of their last runs finish first.
      const agent = capture;
      stoppers.push(() => agent.stop());
      if (capturing) {
        const requests = startCaptureRequestWorker({
          agent,
          hostId: HOST_ID,
          connection: connect('capture requests'),
          prefix,
          recorder,
          logger,
        });
        stoppers.push(() => requests.close());
      }
      if (capturing && config.settings.capture.collections.length > 0) {
        const collector = new PeriodicCollector({
          ringDir: join(config.dataDir, 'capture', 'ring'),
          artifacts,
          entries: config.settings.capture.collections,
          payload: config.settings.capture.payload,
          excludedListeners: agent.excludedListeners,
          logger,
        });
        collector.start();
        stoppers.push(() => collector.stop());
      }
    }
    for (const location of roles.workerLocations) {
      const agent = capture;
      const stopBeating = recorder.workers.start(location, () => ({
        capture: agent
          ? agent.health()
          : { capturing: false, reason: 'capture is not enabled in the config' },
      }));
      closers.push(stopBeating);
      const runWorker = startRunWorker({
        config,
        location,
        connection: connect(`worker ${location}`),
        recorder,
        logger,
        onResult: options.onResult,
        capture,
      });
      closers.push(() => runWorker.close());
      if (journeys.some((journey) => journey.locations.includes(location))) {
        const journeyWorker = startJourneyWorker({
          config,
          journeys,
          location,
          connection: connect(`journey worker ${location}`),
          recorder,
          artifacts,
          logger,
          extraBrowserArgs: options.extraBrowserArgs,
          onResult: options.onResult,
          capture,
        });
        closers.push(() => journeyWorker.close());
      }
    }
    // Workers close first on stop (stoppers run in reverse): close() cancels the runs they
    // have in flight, waits for each to be stored as "cancelled by shutdown", and closes
    // their browsers, so a stop takes seconds even with a 10-minute journey running.
    stoppers.push(() => Promise.all(closers.map((close) => close())));
    if (roles.api) {
      // The API's own connections fail fast: a request during a Redis outage gets a 503 at
      // once, while the workers' connections keep waiting for Redis so no run is lost.
      const apiConnection = connect('api', { failFast: true });
      const requestConnection = connect('api capture requests', { failFast: true });
      await Promise.all(
        [apiConnection, requestConnection, runNowConnection]
          .filter((connection) => connection !== undefined)
          .map((connection) => waitUntilReady(connection)),
      );
      // Retention runs where the store is served from: one process deletes, the workers
      // sharing its directory only write. Stopped after the API closes (stoppers run in reverse).
      const retention = new RetentionSchedule(artifacts, config.settings.retention, logger);
      retention.start();
      stoppers.push(() => retention.stop());
      const app: FastifyInstance = await buildApp({
        config,
        recorder: new ResultsRecorder(apiConnection, config),
        redis: apiConnection,
        logger,
        journeys,
        artifacts,
        retention: retention.retention,
        runNow,
        requestCapture: async (run, unfiltered) => {
          const queue = openCaptureRequestQueue(run.host ?? HOST_ID, requestConnection, prefix);
          try {
            const job = await queue.add(
              'capture',
              { runId: run.runId, unfiltered },
              { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
            );
            return job.id ?? '';
          } finally {
            await queue.close();
          }
        },
      });
      const address = await app.listen({
        host: config.settings.api.host,
        port: options.apiPort ?? config.settings.api.port,
      });
      apiUrl = address.replace('[::1]', 'localhost');
      const listening = app.server.address();
      if (typeof listening === 'object' && listening) capture?.excludeListener(listening.port);
      stoppers.push(() => app.close());
    }
    logger.info({ redis: redactUrl(redis.url), apiUrl, workers: roles.workerLocations }, 'pathwatch started');
    return { redisUrl: redis.url, apiUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A worker-only process with `artifacts.deliverTo` spools its artifacts in `local` and
 * uploads them to the API; any other process writes `local` directly (the API's own store,
 * or a directory shared with it). Its stopper is pushed before the capture agent's and the
 * workers', so it stops after them: the last runs' evidence is queued before it closes.
 */
async function deliveringStoreFor(
  config: LoadedConfig,
  roles: StackRoles,
  local: FilesystemArtifactStore,
  logger: Logger,
  stoppers: Array<() => Promise<unknown>>,
): Promise<ArtifactStore> {
  const deliverTo = config.settings.artifacts.deliverTo;
  if (!deliverTo || roles.workerLocations.length === 0) return local;
  if (roles.api) {
    // Delivering to itself would upload each file onto itself, then delete it.
    logger.warn(
      { to: deliverTo.url },
      'artifacts.deliverTo is ignored: this process serves the API from its own store',
    );
    return local;
  }
  const store = new DeliveringArtifactStore({
    spool: local,
    target: { url: deliverTo.url, token: config.secrets.interpolate(deliverTo.token) },
    logger,
  });
  await store.start();
  stoppers.push(() => store.close());
  return store;
}

type QueuesByLocation = Map<string, Record<QueueKind, Queue<RunJobData>>>;

/** Every queue of every location (probes and journeys), on one connection. */
function openEveryQueue(locations: string[], connection: Redis, prefix: string): QueuesByLocation {
  return new Map(
    locations.map((location) => [
      location,
      Object.fromEntries(
        QUEUE_KINDS.map((kind) => [kind, openQueue(kind, location, connection, prefix)]),
      ) as Record<QueueKind, Queue<RunJobData>>,
    ]),
  );
}

async function closeEveryQueue(queues: QueuesByLocation): Promise<void> {
  await Promise.all(
    [...queues.values()].flatMap((byKind) => Object.values(byKind).map((queue) => queue.close())),
  );
}
