import { Redis } from 'ioredis';

/**
 * Connection for BullMQ and the stores: BullMQ requires `maxRetriesPerRequest: null`.
 * `autoPipelining` batches commands issued in the same tick into one write; only for
 * connections that never block (the result stores), not BullMQ's.
 */
export function createRedisConnection(url: string, options: { autoPipelining?: boolean } = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    enableAutoPipelining: options.autoPipelining ?? false,
  });
}

export class RedisUnreachableError extends Error {
  readonly code = 'REDIS_UNREACHABLE';
}

/**
 * One quick attempt, no retries: at start-up an operator wants to hear at once that
 * REDIS_URL is wrong, not watch a process that silently retries forever.
 */
export async function assertRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on('error', () => {}); // reported through connect()'s rejection below
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new RedisUnreachableError(
      `cannot reach Redis at REDIS_URL=${redactUrl(url)} (${(error as Error).message}); start Redis there, or unset REDIS_URL so pathwatch starts its own redis-server (Debian: apt-get install redis-server)`,
    );
  } finally {
    probe.disconnect();
  }
}

/** A Redis URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
