import { processSecretMasker } from '../config/secret-masker.ts';
import { RedisKeyspace } from '../redis/redis-keyspace.ts';
import type { ChannelReceipt } from './alert-channel.ts';
import type { AlertEvent } from './alert-event.ts';

/**
 * `queued`, `retrying` (an attempt failed, another is due), `sent`, `failed` (no more
 * attempts), or settled without a send of its own: `held` (a maintenance window covers it),
 * `skipped` (nothing to say any more: recovered before a reminder, the probe host is at
 * fault, no down mail went to this list) and `folded` (into a storm digest).
 */
export const ALERT_DELIVERY_STATES = [
  'queued',
  'retrying',
  'sent',
  'failed',
  'held',
  'skipped',
  'folded',
] as const;
export type AlertDeliveryState = (typeof ALERT_DELIVERY_STATES)[number];

/** States after which nothing more happens to an alert. */
export const FINAL_ALERT_STATES: readonly AlertDeliveryState[] = [
  'sent',
  'failed',
  'held',
  'skipped',
  'folded',
];

/** One alert's delivery, as the API shows it. */
export interface AlertStatus {
  key: string;
  kind: AlertEvent['kind'];
  checkId?: string;
  incidentId?: string;
  /** The recipient list and channel it goes to. */
  list: string;
  channel: AlertEvent['channel'];
  state: AlertDeliveryState;
  /** Why it was held, skipped or folded (the window's name, the digest's key…). */
  reason?: string;
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
export class AlertStatusStore extends RedisKeyspace {
  private statusKey(key: string): string {
    return this.keyOf('alert', key);
  }

  private sentKey(key: string): string {
    return this.keyOf('alert-sent', key);
  }

  private get indexKey(): string {
    return this.keyOf('alerts');
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
    if (created === 'OK') await this.index(event.key, at);
  }

  /**
   * Lists the alert in the API's index (once: NX keeps its first time). Every write does it:
   * an alert's job may run before its `queued` status is written (the job is added first, so
   * that a crash in between leaves a job without a status, never a status without a job).
   */
  private async index(key: string, at: number): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.indexKey, 'NX', at, key)
      .zremrangebyrank(this.indexKey, 0, -(LISTED_ALERTS + 1))
      .exec();
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
    await this.index(event.key, status.queuedAt);
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
    await this.index(event.key, status.queuedAt);
  }

  /**
   * Settles an alert without a send of its own (held, skipped, folded), with why. Never over
   * a sent status; a folded alert counts as delivered (its digest carries it), so it also
   * gets the sent mark: a redone job does not fold it twice.
   */
  async settled(
    event: AlertEvent,
    state: 'held' | 'skipped' | 'folded',
    reason: string,
    at = Date.now(),
  ): Promise<void> {
    const previous = await this.get(event.key);
    if (previous?.state === 'sent') return;
    const status: AlertStatus = { ...(previous ?? this.fresh(event, at)), state, reason, updatedAt: at };
    delete status.nextAttemptAt;
    const multi = this.redis
      .multi()
      .set(this.statusKey(event.key), JSON.stringify(status), 'EX', KEEP_SECONDS);
    if (state === 'folded') multi.set(this.sentKey(event.key), `folded into ${reason}`, 'EX', KEEP_SECONDS);
    await multi.exec();
    await this.index(event.key, status.queuedAt);
  }

  private toldKey(event: AlertEvent): string {
    return this.keyOf('alert-verdict', `${event.incidentId ?? event.key}.${event.list}.${event.channel}`);
  }

  /** The verdict a list was last told about an incident (by any alert of it sent or folded). */
  async toldVerdict(event: AlertEvent): Promise<string | undefined> {
    const told = await this.redis.get(this.toldKey(event));
    return told ? told : undefined;
  }

  /** Whether a list was told anything of the incident: then it is owed its recovery. */
  async heardOf(event: AlertEvent): Promise<boolean> {
    return (await this.redis.exists(this.toldKey(event))) === 1;
  }

  /**
   * Remembers that a list was told of an incident, and the verdict it was told: a follow-up
   * goes only when the verdict changes, and the up alert only to lists that heard of it.
   */
  async rememberTold(event: AlertEvent): Promise<void> {
    if (!event.incidentId) return;
    await this.redis.set(this.toldKey(event), event.verdict ?? '', 'EX', KEEP_SECONDS);
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
      list: event.list,
      channel: event.channel,
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
