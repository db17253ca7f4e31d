import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { RedisKeyspace } from '../redis/redis-keyspace.ts';

/** A worker that has not reported for this long is presumed dead. */
export const WORKER_TTL_MS = 15_000;
const BEAT_EVERY_MS = 5000;

/**
 * Worker heartbeats per location, as a sorted set of worker id → last beat. A location
 * with no live worker is shown as such, and its checks are not reported as failing.
 */
export class WorkerRegistry extends RedisKeyspace {
  private key(location: string): string {
    return this.keyOf('workers', location);
  }

  /**
   * Starts beating for a worker at `location`; `status` (e.g. the capture ring's health) is
   * published with every beat. The returned function stops and deregisters it.
   */
  start(location: string, status?: () => Record<string, unknown>): () => Promise<void> {
    const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const statusKey = this.keyOf('worker-status', location, workerId);
    const beat = () => {
      const multi = this.redis
        .multi()
        .zadd(this.key(location), Date.now(), workerId)
        .zremrangebyscore(this.key(location), 0, Date.now() - WORKER_TTL_MS * 4);
      if (status) multi.set(statusKey, JSON.stringify({ ...status(), at: Date.now() }), 'PX', WORKER_TTL_MS);
      return multi.exec().catch(() => {}); // Redis away: the next beat retries, and the TTL tells the truth meanwhile
    };
    void beat();
    const timer = setInterval(beat, BEAT_EVERY_MS);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await this.redis
        .multi()
        .zrem(this.key(location), workerId)
        .del(statusKey)
        .exec()
        .catch(() => {});
    };
  }

  async liveWorkers(location: string, now = Date.now()): Promise<number> {
    return this.redis.zcount(this.key(location), now - WORKER_TTL_MS, '+inf');
  }

  /** Live workers of a location with what they last published (capture health, …). */
  async describe(
    location: string,
    now = Date.now(),
  ): Promise<Array<{ id: string; lastSeen: number; status?: unknown }>> {
    const entries = await this.redis.zrangebyscore(
      this.key(location),
      now - WORKER_TTL_MS,
      '+inf',
      'WITHSCORES',
    );
    const workers: Array<{ id: string; lastSeen: number; status?: unknown }> = [];
    for (let index = 0; index < entries.length; index += 2) {
      const text = await this.redis.get(this.keyOf('worker-status', location, entries[index]));
      workers.push({
        id: entries[index],
        lastSeen: Number(entries[index + 1]),
        ...(text ? { status: JSON.parse(text) } : {}),
      });
    }
    return workers;
  }

  async lastSeen(location: string): Promise<number | undefined> {
    const newest = await this.redis.zrevrange(this.key(location), 0, 0, 'WITHSCORES');
    return newest.length === 2 ? Number(newest[1]) : undefined;
  }
}
