import type { Redis } from 'ioredis';
import { type RedisStep, runSteps } from './redis-step.ts';
import type { RunResult, RunStatus } from './run-result.ts';

export interface ResultStoreOptions {
  /** Key prefix shared with the queues (`pathwatch`). */
  prefix: string;
  /** Runs kept per check and location (default 200); older ones are deleted, not just unindexed. */
  runsPerSeries?: number;
  /** How long a run's full record is kept (default 14 days). */
  runTtlSeconds?: number;
}

/**
 * Stores one run: its record (expiring), both time indexes, the location's "latest", then
 * keeps the series at its cap and deletes the run records that fall out of it, so the
 * number of stored runs is bounded by count, not only by their expiry (at a 1 min interval
 * a 14-day expiry alone would keep 20,000 runs per check and location). A step (see
 * runSteps), not a MULTI of five commands: every run pays this, and each command costs the
 * worker more CPU than Redis spends running it.
 *
 * KEYS: run record, series index, check index, latest hash.
 * ARGV: record JSON, TTL s, startedAt, runId, location, latest JSON, cap, run key prefix.
 */
const STORE_RUN = `
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[4], ARGV[5], ARGV[6])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[7])
if excess > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  for _, id in ipairs(old) do
    redis.call('UNLINK', ARGV[8] .. id)
    redis.call('ZREM', KEYS[3], id)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
end
return excess
`;

/** The latest run's outcome for one check at one location, for overview pages. */
export interface LatestRun {
  runId: string;
  status: RunStatus;
  startedAt: number;
  durationMs: number;
  error?: string;
}

/**
 * Runs in Redis: the full record by id (expiring), plus capped time-ordered indexes per
 * check and per check × location, so nothing grows without bound. Saving the same runId
 * twice overwrites: a job that is redone is stored once.
 */
export class ResultStore {
  private readonly runsPerSeries: number;
  private readonly attaching = new Map<string, Promise<boolean>>();
  private readonly runTtlSeconds: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: ResultStoreOptions,
  ) {
    this.runsPerSeries = options.runsPerSeries ?? 200;
    this.runTtlSeconds = options.runTtlSeconds ?? 14 * 86_400;
  }

  private key(...parts: string[]): string {
    return [this.options.prefix, ...parts].join(':');
  }

  async save(result: RunResult): Promise<void> {
    await runSteps(this.redis, [this.storeStep(result)]);
  }

  /** The step that stores `result` (see STORE_RUN), to run alone or with the rest of a run's write. */
  storeStep(result: RunResult): RedisStep {
    const latest: LatestRun = {
      runId: result.runId,
      status: result.status,
      startedAt: result.startedAt,
      durationMs: result.phases.total,
      ...(result.error ? { error: result.error.message } : {}),
    };
    return {
      name: 'store-run',
      lua: STORE_RUN,
      keys: [
        this.key('run', result.runId),
        this.key('runs', result.checkId, result.location),
        this.key('runs', result.checkId),
        this.key('latest', result.checkId),
      ],
      args: [
        JSON.stringify(result),
        this.runTtlSeconds,
        result.startedAt,
        result.runId,
        result.location,
        JSON.stringify(latest),
        this.runsPerSeries,
        this.key('run', ''),
      ],
    };
  }

  /**
   * Adds evidence that arrived after the run was stored (a packet-capture slice) to the
   * run's record only; the "latest" index is left alone, since newer runs may exist.
   */
  async attachEvidence(
    runId: string,
    artifacts: RunResult['artifacts'],
    details: Record<string, unknown>,
  ): Promise<boolean> {
    // Read-modify-write: two attaches to one run (its own slice and a requested unfiltered
    // one) are queued, not interleaved, or one would drop the other's artifacts. Both
    // happen on the host that ran the run, so queueing in this process is enough.
    const previous = this.attaching.get(runId) ?? Promise.resolve(true);
    const next = previous.then(async () => {
      const run = await this.getRun(runId);
      if (!run) return false;
      run.artifacts = [...(run.artifacts ?? []), ...(artifacts ?? [])];
      run.details = { ...run.details, ...details };
      await this.redis.set(this.key('run', runId), JSON.stringify(run), 'KEEPTTL');
      return true;
    });
    const settled = next.catch(() => false);
    this.attaching.set(runId, settled);
    void settled.then(() => {
      if (this.attaching.get(runId) === settled) this.attaching.delete(runId);
    });
    return next;
  }

  async getRun(runId: string): Promise<RunResult | undefined> {
    const text = await this.redis.get(this.key('run', runId));
    return text ? (JSON.parse(text) as RunResult) : undefined;
  }

  /** Several runs in one round trip, in the order asked; an expired one is undefined. */
  async getRuns(runIds: string[]): Promise<Array<RunResult | undefined>> {
    if (runIds.length === 0) return [];
    const texts = await this.redis.mget(runIds.map((id) => this.key('run', id)));
    return texts.map((text) => (text ? (JSON.parse(text) as RunResult) : undefined));
  }

  /** Newest first. */
  async listRuns(checkId: string, query: { location?: string; limit?: number } = {}): Promise<RunResult[]> {
    const indexKey = query.location ? this.key('runs', checkId, query.location) : this.key('runs', checkId);
    const ids = await this.redis.zrevrange(indexKey, 0, (query.limit ?? 50) - 1);
    if (ids.length === 0) return [];
    const texts = await this.redis.mget(ids.map((id) => this.key('run', id)));
    return texts.filter((text): text is string => text !== null).map((text) => JSON.parse(text) as RunResult);
  }

  async latest(checkId: string): Promise<Record<string, LatestRun>> {
    const entries = await this.redis.hgetall(this.key('latest', checkId));
    return Object.fromEntries(
      Object.entries(entries).map(([location, text]) => [location, JSON.parse(text) as LatestRun]),
    );
  }
}
