import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

/** Deletes the lock only if it still holds our token (it may have expired and been retaken). */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class RedisLockTimeoutError extends Error {
  readonly code = 'REDIS_LOCK_TIMEOUT';
}

export interface RedisLockOptions {
  /**
   * How long the lock holds if its holder dies before releasing it.
   * @defaultValue 5000
   */
  ttlMs?: number;
  /**
   * How long to wait for a lock another holder has.
   * @defaultValue 5000
   */
  waitMs?: number;
}

/**
 * Runs `work` while holding `key` across every process that shares this Redis: a
 * read-modify-write of one JSON record (an incident) by two workers at once would otherwise
 * let the later write drop the earlier one's change. WATCH cannot serve here: it is per
 * connection, and the stores share one auto-pipelined connection, where another caller's
 * EXEC would clear our watch.
 */
export async function withRedisLock<T>(
  redis: Redis,
  key: string,
  work: () => Promise<T>,
  options: RedisLockOptions = {},
): Promise<T> {
  const ttlMs = options.ttlMs ?? 5000;
  const deadline = Date.now() + (options.waitMs ?? 5000);
  const token = randomBytes(12).toString('hex');
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK') break;
    if (Date.now() >= deadline)
      throw new RedisLockTimeoutError(
        `lock ${key} still held by another process after ${options.waitMs ?? 5000} ms`,
      );
    await sleep(delay);
  }
  try {
    return await work();
  } finally {
    await redis.eval(RELEASE, 1, key, token).catch(() => {});
  }
}
