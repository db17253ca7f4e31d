import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The shared Redis every session and CI has; tests never flush it, only their own prefix. */
export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(label: string): string {
  return `pwtest-${label}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix` (SCAN, never FLUSH: the Redis is shared). */
export async function deleteKeysWithPrefix(prefix: string, url = SHARED_REDIS_URL): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
