import type { Redis } from 'ioredis';

/**
 * A store's place in Redis: the connection, and its keys under the install's prefix. Every
 * key the stores write is `<prefix>:<part>:<part>…`, built by keyOf, so the key layout
 * (which the shared Redis's other users must be able to tell apart) has one author.
 */
export abstract class RedisKeyspace {
  constructor(
    protected readonly redis: Redis,
    protected readonly prefix: string,
  ) {}

  /** `<prefix>:<parts, joined by ":">`. */
  protected keyOf(...parts: Array<string | number>): string {
    return [this.prefix, ...parts].join(':');
  }
}
