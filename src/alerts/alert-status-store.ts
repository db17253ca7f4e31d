import type { Redis } from 'ioredis';
import { processSecretMasker } from '../config/secret-masker.ts';
import type { ChannelReceipt } from './alert-channel.ts';
import type { AlertEvent } from './alert-event.ts';

export type AlertDeliveryState = 'queued' | 'retrying' | 'sent' | 'failed';

/** One alert's delivery, as the API shows it. */
export interface AlertStatus {
  key: string;
  kind: AlertEvent['kind'];
  checkId: string;
  incidentId: string;
  state: AlertDeliveryState;
  /** Delivery attempts made so far. */
  attempts: number;
  /** Why the last attempt failed (retrying, failed). */
  lastError?: string;
  /** The server's reply line once it accepted the alert. */
  response?: string;
  messageId?: string;
  queuedAt: number;
  updatedAt: number;
  sentAt?: number;
  /** When the next attempt is due (retrying). */
  nextAttemptAt?: number;
}

/** Statuses listed by the API, newest first; older ones drop out of the list. */
const LISTED_ALERTS = 1000;
/**
 * How long a status and its sent mark are kept: far longer than the retries of one alert
 * last (hours), so a job redone at any point of them still finds the mark.
 */
const KEEP_SECONDS = 30 * 86_400;

/**
 * Each alert's delivery status, and the mark that says it was sent, by idempotency key.
 * The mark is its own key (`alert-sent:<key>`), written once, right after the server
 * accepted; the alert worker reads it before every send.
 */
export class AlertStatusStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private statusKey(key: string): string {
    return `${this.prefix}:alert:${key}`;
  }

  private sentKey(key: string): string {
    return `${this.prefix}:alert-sent:${key}`;
  }

  private get indexKey(): string {
    return `${this.prefix}:alerts`;
  }

  /**
   * Records a new alert as queued. Written only if the alert has no status yet: a second
   * enqueue of the same event (a redone run) never turns a sent alert back into a queued one.
   */
  async queued(event: AlertEvent, at = Date.now()): Promise<void> {
    const status = this.fresh(event, at);
    const created = await this.redis.set(
      this.statusKey(event.key),
      JSON.stringify(status),
      'EX',
      KEEP_SECONDS,
      'NX',
    );
    if (created === 'OK') {
      await this.redis
        .multi()
        .zadd(this.indexKey, 'NX', at, event.key)
        .zremrangebyrank(this.indexKey, 0, -(LISTED_ALERTS + 1))
        .exec();
    }
  }

  async get(key: string): Promise<AlertStatus | undefined> {
    const text = await this.redis.get(this.statusKey(key));
    return text ? (JSON.parse(text) as AlertStatus) : undefined;
  }

  /** The sent mark's server reply, if the alert was already accepted by the server. */
  async sentResponse(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.sentKey(key))) ?? undefined;
  }

  /**
   * Marks the alert sent and its status with it, in one transaction: from here on no
   * attempt sends it again. Called the moment the server accepted.
   */
  async sent(event: AlertEvent, receipt: ChannelReceipt, attempts: number, at = Date.now()): Promise<void> {
    const previous = await this.get(event.key);
    const response = serverText(receipt.response);
    const status: AlertStatus = {
      ...(previous ?? this.fresh(event, at)),
      state: 'sent',
      attempts,
      response,
      messageId: receipt.messageId,
      updatedAt: at,
      sentAt: at,
    };
    delete status.nextAttemptAt;
    await this.redis
      .multi()
      .set(this.sentKey(event.key), response || 'accepted', 'EX', KEEP_SECONDS)
      .set(this.statusKey(event.key), JSON.stringify(status), 'EX', KEEP_SECONDS)
      .exec();
  }

  /** An attempt failed and another will be made (`nextAttemptAt`), or none will (`failed`). */
  async attemptFailed(
    event: AlertEvent,
    error: string,
    attempts: number,
    next: { at: number } | 'failed',
    at = Date.now(),
  ): Promise<void> {
    const previous = await this.get(event.key);
    // Never over a sent status: a stalled duplicate attempt must not undo it.
    if (previous?.state === 'sent') return;
    const status: AlertStatus = {
      ...(previous ?? this.fresh(event, at)),
      state: next === 'failed' ? 'failed' : 'retrying',
      attempts,
      lastError: serverText(error),
      updatedAt: at,
    };
    if (next === 'failed') delete status.nextAttemptAt;
    else status.nextAttemptAt = next.at;
    await this.redis.set(this.statusKey(event.key), JSON.stringify(status), 'EX', KEEP_SECONDS);
  }

  /** The newest alerts first, at most `limit`, optionally of one check. */
  async list(limit: number, checkId?: string): Promise<AlertStatus[]> {
    const found: AlertStatus[] = [];
    // A check's alerts are filtered from the shared index, a page at a time, bounded by it.
    for (let start = 0; found.length < limit && start < LISTED_ALERTS; start += 200) {
      const keys = await this.redis.zrevrange(this.indexKey, start, start + 199);
      if (keys.length === 0) break;
      const texts = await this.redis.mget(keys.map((key) => this.statusKey(key)));
      for (const text of texts) {
        if (!text) continue;
        const status = JSON.parse(text) as AlertStatus;
        if (checkId === undefined || status.checkId === checkId) found.push(status);
        if (found.length === limit) break;
      }
    }
    return found;
  }

  private fresh(event: AlertEvent, at: number): AlertStatus {
    return {
      key: event.key,
      kind: event.kind,
      checkId: event.checkId,
      incidentId: event.incidentId,
      state: 'queued',
      attempts: 0,
      queuedAt: at,
      updatedAt: at,
    };
  }
}

/**
 * What a mail server said, as kept and shown by the API: masked like a log line, since a
 * server may echo what it was sent (a refused AUTH line carries the password in base64).
 */
function serverText(text: string): string {
  return processSecretMasker.mask(text);
}
