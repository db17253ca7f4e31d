import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';

/** A worker that has not reported for this long is presumed dead. */
export const WORKER_TTL_MS = 15_000;
const BEAT_EVERY_MS = 5000;

/**
 * Worker heartbeats per location, as a sorted set of worker id → last beat. A location
 * with no live worker is shown as such, and its checks are not reported as failing.
 */
export class WorkerRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(location: string): string {
    return `${this.prefix}:workers:${location}`;
  }

  /** Starts beating for a worker at `location`; the returned function stops and deregisters it. */
  start(location: string): () => Promise<void> {
    const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const beat = () =>
      this.redis
        .multi()
        .zadd(this.key(location), Date.now(), workerId)
        .zremrangebyscore(this.key(location), 0, Date.now() - WORKER_TTL_MS * 4)
        .exec()
        .catch(() => {}); // Redis away: the next beat retries, and the TTL tells the truth meanwhile
    void beat();
    const timer = setInterval(beat, BEAT_EVERY_MS);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await this.redis.zrem(this.key(location), workerId).catch(() => {});
    };
  }

  async liveWorkers(location: string, now = Date.now()): Promise<number> {
    return this.redis.zcount(this.key(location), now - WORKER_TTL_MS, '+inf');
  }

  async lastSeen(location: string): Promise<number | undefined> {
    const newest = await this.redis.zrevrange(this.key(location), 0, 0, 'WITHSCORES');
    return newest.length === 2 ? Number(newest[1]) : undefined;
  }
}
