import type { Redis } from 'ioredis';
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
 * Keeps a series at its cap and deletes the run records that fall out of it, so the
 * number of stored runs is bounded by count, not only by their expiry: at a 1 min interval
 * a 14-day expiry alone would keep 20,000 runs per check and location.
 */
const TRIM_SERIES = `
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])
if excess > 0 then
  local old = redis.call('ZRANGE', KEYS[1], 0, excess - 1)
  for _, id in ipairs(old) do
    redis.call('UNLINK', ARGV[2] .. id)
    redis.call('ZREM', KEYS[2], id)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
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
    // EVALSHA after the first call: the script text is not sent with every run.
    redis.defineCommand('pathwatchTrimSeries', { numberOfKeys: 2, lua: TRIM_SERIES });
    this.runTtlSeconds = options.runTtlSeconds ?? 14 * 86_400;
  }

  private key(...parts: string[]): string {
    return [this.options.prefix, ...parts].join(':');
  }

  async save(result: RunResult): Promise<void> {
    const latest: LatestRun = {
      runId: result.runId,
      status: result.status,
      startedAt: result.startedAt,
      durationMs: result.phases.total,
      ...(result.error ? { error: result.error.message } : {}),
    };
    const seriesKey = this.key('runs', result.checkId, result.location);
    const checkKey = this.key('runs', result.checkId);
    const multi = this.redis
      .multi()
      .set(this.key('run', result.runId), JSON.stringify(result), 'EX', this.runTtlSeconds)
      .zadd(seriesKey, result.startedAt, result.runId)
      .zadd(checkKey, result.startedAt, result.runId)
      .hset(this.key('latest', result.checkId), result.location, JSON.stringify(latest)) as ReturnType<
      Redis['multi']
    > & {
      pathwatchTrimSeries(series: string, check: string, cap: number, runKeyPrefix: string): unknown;
    };
    // After the adds, so the series ends at its cap.
    multi.pathwatchTrimSeries(seriesKey, checkKey, this.runsPerSeries, this.key('run', ''));
    await multi.exec();
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
