import { Redis } from 'ioredis';
import type { Logger } from '../util/logger.ts';

/** How long a request-serving connection waits for Redis before the request fails. */
export const REDIS_REQUEST_DEADLINE_MS = 2000;

export interface RedisConnectionOptions {
  /**
   * `autoPipelining` batches commands issued in the same tick into one write; only for
   * connections that never block (the result stores), not BullMQ's.
   */
  autoPipelining?: boolean;
  /** Names the connection in log lines ("results", "scheduler", "worker inside", "api"). */
  role?: string;
  /** Where "redis connection lost" / "redis connection back" go; none: not logged. */
  logger?: Logger;
  /**
   * For connections that answer someone waiting (the API): while Redis is away a command
   * fails at once instead of queueing until Redis is back, and any command fails after
   * REDIS_REQUEST_DEADLINE_MS. Never for BullMQ workers, which must wait and retry.
   */
  failFast?: boolean;
}

/**
 * Connection for BullMQ and the stores: BullMQ requires `maxRetriesPerRequest: null`
 * on its workers' connections, so commands wait for Redis to come back and no run is lost.
 *
 * ioredis emits 'error' on every reconnect attempt, and BullMQ forwards each one to its
 * queues and workers (and prints the stack of every one nobody listens to): a 10 s outage
 * filled stderr with hundreds of lines. So the connection reports its own state instead,
 * one line when it is lost and one when it is back, and keeps its 'error' events to itself.
 * Commands still reject with their own errors; the duplicates BullMQ makes for blocking
 * reads report under the same role.
 */
export function createRedisConnection(url: string, options: RedisConnectionOptions = {}): Redis {
  const connection = new Redis(url, {
    enableReadyCheck: true,
    enableAutoPipelining: options.autoPipelining ?? false,
    ...(options.failFast
      ? { maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: REDIS_REQUEST_DEADLINE_MS }
      : { maxRetriesPerRequest: null }),
  });
  return watchConnection(connection, new RoleHealth(options.role ?? 'redis', redactUrl(url), options.logger));
}

/** Whether an error means Redis could not be reached (answer 503), not that a command was wrong. */
export function isRedisUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError') return true;
  if (
    error.message === 'Command timed out' ||
    error.message === 'Connection is closed.' ||
    error.message.startsWith("Stream isn't writeable")
  ) {
    return true;
  }
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT';
}

/** Why a command could not reach Redis, in words for an error message. */
export function redisFailureReason(error: Error): string {
  if (error.message === 'Command timed out') return `no answer within ${REDIS_REQUEST_DEADLINE_MS} ms`;
  if (error.message.startsWith("Stream isn't writeable")) return 'not connected';
  return error.message;
}

/** The up/down state of every connection of one role, logged once per change. */
class RoleHealth {
  private readonly down = new Set<Redis>();
  private lostAt = 0;

  constructor(
    private readonly role: string,
    private readonly redis: string,
    private readonly logger: Logger | undefined,
  ) {}

  lost(connection: Redis, reason: string): void {
    if (this.down.has(connection)) return;
    this.down.add(connection);
    if (this.down.size > 1) return;
    this.lostAt = Date.now();
    this.logger?.warn(
      { role: this.role, redis: this.redis, reason },
      `redis connection lost (${this.role}); retrying until it is back`,
    );
  }

  back(connection: Redis): void {
    if (!this.down.delete(connection) || this.down.size > 0) return;
    // At the level of the "lost" line, so a log filtered to warnings still shows it ended.
    this.logger?.warn(
      { role: this.role, redis: this.redis, downMs: Date.now() - this.lostAt },
      `redis connection back (${this.role})`,
    );
  }

  /** A connection closed on purpose is neither lost nor back. */
  ended(connection: Redis): void {
    this.down.delete(connection);
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

function watchConnection(connection: Redis, health: RoleHealth): Redis {
  const emit = connection.emit.bind(connection);
  const onError = (error: unknown) => {
    // An error while connected is about one command's socket, not a lost connection:
    // the 'reconnecting' that follows reports the loss.
    if (connection.status !== 'ready') health.lost(connection, describeError(error));
  };
  // ioredis prints an error's stack itself unless an 'error' listener is attached: this is
  // that listener, and the only one 'error' reaches (BullMQ's forwarders never hear it).
  connection.on('error', onError);
  connection.emit = ((event: string | symbol, ...args: unknown[]) => {
    if (event === 'error') {
      onError(args[0]);
      return true;
    }
    return emit(event, ...args);
  }) as Redis['emit'];
  // Emitted only when ioredis reconnects by itself, never after quit()/disconnect().
  connection.on('reconnecting', () => health.lost(connection, 'connection closed'));
  connection.on('ready', () => health.back(connection));
  connection.on('end', () => health.ended(connection));
  const duplicate = connection.duplicate.bind(connection);
  connection.duplicate = ((override?: Parameters<Redis['duplicate']>[0]) =>
    watchConnection(duplicate(override), health)) as Redis['duplicate'];
  return connection;
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

/**
 * Resolves once the connection is ready, or after `timeoutMs` regardless: a fail-fast
 * connection answers 503 until then, which /readyz reports.
 */
export function waitUntilReady(connection: Redis, timeoutMs = 5000): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      connection.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    connection.once('ready', done);
  });
}
