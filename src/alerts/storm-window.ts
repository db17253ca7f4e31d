import type { Redis } from 'ioredis';
import type { AlertEvent, DigestEntry } from './alert-event.ts';

/** How long a digest's folded entries are kept: far past the digest's own retries. */
const KEEP_DIGEST_MS = 7 * 86_400_000;

/**
 * Counts a list's alerts per window; past the threshold it folds the alert into the window's
 * digest list, in the same atomic step (two workers counting at once cannot both pass the
 * threshold). A window opens with the first alert after the last one closed. Each alert is
 * counted once per window: a retry (the mail server was down) gets the answer it got first.
 * The time is Redis's own, the same for every worker and for the digest that reads the list.
 */
const COUNT_OR_FOLD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local key = 'k:' .. ARGV[3]
local start = tonumber(redis.call('HGET', KEYS[1], 'start'))
if not start or now - start >= window then
  start = now
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'start', start, 'count', 0)
  redis.call('PEXPIRE', KEYS[1], window * 2)
else
  local seen = redis.call('HGET', KEYS[1], key)
  if seen then return {tonumber(seen), start} end
end
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
local folded = 0
if count > threshold then
  folded = 1
  local digest = ARGV[5] .. start
  redis.call('RPUSH', digest, ARGV[4])
  redis.call('PEXPIRE', digest, tonumber(ARGV[6]))
end
redis.call('HSET', KEYS[1], key, folded)
return {folded, start}
`;

export interface StormOutcome {
  /** Past the threshold: the alert is in the digest of the window that started at `windowStart`. */
  folded: boolean;
  windowStart: number;
}

/** One window of alerts per recipient list and channel (see alerting.storm). */
export class StormWindow {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly windowMs: number,
    private readonly threshold: number,
  ) {}

  private counterKey(list: string, channel: string): string {
    return `${this.prefix}:alert-storm:${list}.${channel}`;
  }

  private digestPrefix(list: string, channel: string): string {
    return `${this.prefix}:alert-digest:${list}.${channel}.`;
  }

  get window(): number {
    return this.windowMs;
  }

  async count(event: AlertEvent): Promise<StormOutcome> {
    const entry: DigestEntry = {
      key: event.key,
      kind: event.kind,
      checkId: event.checkId,
      checkName: event.checkName,
      locations: event.locations,
      verdict: event.verdict,
      firstError: event.firstError,
      at: event.at,
      incidentId: event.incidentId,
    };
    // The digest's key is made in the script from its prefix and the window's start: a
    // single Redis, as pathwatch requires (not a cluster, where it would have to be a KEYS entry).
    const [folded, windowStart] = (await this.redis.eval(
      COUNT_OR_FOLD,
      1,
      this.counterKey(event.list, event.channel),
      this.windowMs,
      this.threshold,
      event.key,
      JSON.stringify(entry),
      this.digestPrefix(event.list, event.channel),
      KEEP_DIGEST_MS,
    )) as [number, number];
    return { folded: folded === 1, windowStart: Number(windowStart) };
  }

  /** What the window that started at `windowStart` folded, each alert once, in order. */
  async folded(list: string, channel: string, windowStart: number): Promise<DigestEntry[]> {
    const texts = await this.redis.lrange(`${this.digestPrefix(list, channel)}${windowStart}`, 0, -1);
    const seen = new Set<string>();
    const entries: DigestEntry[] = [];
    for (const text of texts) {
      const entry = JSON.parse(text) as DigestEntry;
      if (seen.has(entry.key)) continue;
      seen.add(entry.key);
      entries.push(entry);
    }
    return entries;
  }
}
