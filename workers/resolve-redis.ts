import { type PrivateRedisServer, startPrivateRedisServer } from '../src/redis/private-redis-server.ts';
import { assertRedisReachable } from '../src/redis/redis-connection.ts';

export interface ResolvedRedis {
  url: string;
  /** Present when pathwatch started its own redis-server; stop it on exit. */
  privateServer?: PrivateRedisServer;
}

/**
 * REDIS_URL when set (and reachable), else a private redis-server under the data dir.
 * Throws RedisUnreachableError / RedisNotInstalledError before anything else has started.
 */
export async function resolveRedis(redisUrl: string | undefined, dataDir: string): Promise<ResolvedRedis> {
  if (redisUrl) {
    await assertRedisReachable(redisUrl);
    return { url: redisUrl };
  }
  const privateServer = await startPrivateRedisServer(dataDir);
  return { url: privateServer.url, privateServer };
}
