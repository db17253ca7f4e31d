import http from 'node:http';
import https from 'node:https';
import type { AlertingSettings } from '../config/alerting-schema.ts';
import type { SecretResolver } from '../config/secret-resolver.ts';
import { PATHWATCH_VERSION } from '../version.ts';
import type { AlertChannel, ChannelMessage, ChannelReceipt } from './alert-channel.ts';
import { type AlertContext, EMPTY_ALERT_CONTEXT } from './alert-context.ts';
import type { AlertEvent } from './alert-event.ts';
import { alertSubject, stateOfKind } from './alert-subject.ts';
import {
  describeNetworkError,
  isRetryableStatus,
  oneLine,
  WebhookDeliveryError,
  webhookTarget,
} from './webhook-failure.ts';
import { signWebhook } from './webhook-signature.ts';

export interface WebhookChannelOptions {
  alerting: AlertingSettings;
  /** Resolves each list's `webhook.secret` (a secret reference); the values are masked everywhere. */
  secrets: SecretResolver;
}

/** Bytes of a response body kept for the status line: enough for its first 200 characters. */
const RESPONSE_BYTES_KEPT = 4096;

/** The JSON a webhook receives (`version: 1`); times are ISO 8601, absent facts are left out. */
export interface WebhookPayload {
  version: 1;
  key: string;
  kind: AlertEvent['kind'];
  list: string;
  /** The alert's one-line summary, the mail's subject. */
  summary: string;
  /** `DOWN`, `UP`, `STILL DOWN`, … as a subject says it. */
  state: string;
  check?: { id: string; name: string; kind?: string };
  incidentId?: string;
  verdict?: { name: string; summary?: string };
  /** The event's locations: those DOWN (`down`, reminders), or those that were (`up`). */
  affectedLocations?: string[];
  /** Every location's row of the state table. */
  locations?: Array<Omit<AlertContext['locations'][number], 'since'> & { since?: string }>;
  firstError?: string;
  run?: Omit<NonNullable<AlertContext['run']>, 'startedAt'> & { startedAt: string };
  timings?: AlertContext['timings'];
  diagnosis?: string;
  links?: Omit<AlertContext['links'], 'expiresAt'> & { expiresAt?: string };
  /** The failing step has a screenshot (open the run page to see it: a webhook never carries it). */
  screenshot?: true;
  at: string;
  start?: string;
  downForMs?: number;
  reminder?: number;
  location?: string;
  maintenance?: Omit<NonNullable<AlertEvent['maintenance']>, 'start' | 'end'> & {
    start: string;
    end: string;
  };
  digest?: Array<Omit<NonNullable<AlertEvent['digest']>[number], 'at'> & { at: string }>;
}

function iso(ms: number): string;
function iso(ms: number | undefined): string | undefined;
function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function nonEmpty<T>(items: T[] | undefined): T[] | undefined {
  return items && items.length > 0 ? items : undefined;
}

/**
 * The body of one alert, from the event and its evidence: pure, so a receiver's view of
 * an alert can be tested without a server. Undefined fields vanish in JSON.stringify.
 * The screenshot's bytes never go out (a chat message is no place for them; the run page
 * link opens it), only the fact that there is one.
 */
export function webhookPayload(
  event: AlertEvent,
  context: AlertContext = EMPTY_ALERT_CONTEXT,
): WebhookPayload {
  const verdictName = context.verdict?.name ?? event.verdict;
  const { expiresAt, ...links } = context.links;
  const hasLinks = Object.values(links).some((link) => link !== undefined);
  return {
    version: 1,
    key: event.key,
    kind: event.kind,
    list: event.list,
    summary: alertSubject(event, context),
    state: stateOfKind(event.kind),
    check: event.checkId
      ? { id: event.checkId, name: event.checkName ?? event.checkId, kind: event.itemKind }
      : undefined,
    incidentId: event.incidentId,
    verdict: verdictName ? { name: verdictName, summary: context.verdict?.summary } : undefined,
    affectedLocations: nonEmpty(event.locations),
    locations: nonEmpty(context.locations.map(({ since, ...row }) => ({ ...row, since: iso(since) }))),
    firstError: event.firstError,
    run: context.run ? { ...context.run, startedAt: iso(context.run.startedAt) } : undefined,
    timings: nonEmpty(context.timings),
    diagnosis: context.diagnosis,
    links: hasLinks ? { ...links, expiresAt: iso(expiresAt) } : undefined,
    screenshot: context.screenshot ? true : undefined,
    at: iso(event.at),
    start: iso(event.start),
    downForMs: event.downForMs,
    reminder: event.reminder,
    location: event.location,
    maintenance: event.maintenance
      ? { ...event.maintenance, start: iso(event.maintenance.start), end: iso(event.maintenance.end) }
      : undefined,
    digest: event.digest?.map((entry) => ({ ...entry, at: iso(entry.at) })),
  };
}

/** Where a 3xx pointed, as messages show URLs; nothing when its Location is not a URL. */
function redirectTarget(location: string, base: string): string | undefined {
  try {
    return webhookTarget(new URL(location, base).href);
  } catch {
    return undefined;
  }
}

interface HttpAnswer {
  status: number;
  statusText: string;
  location?: string;
  /** The start of the body (up to RESPONSE_BYTES_KEPT bytes), as far as it arrived. */
  text: string;
}

/**
 * Alerts as a signed JSON POST to each recipient list's `webhook`, so chat and paging tools
 * can be reached. Each request carries the alert's idempotency key (`X-Pathwatch-Delivery`)
 * for receivers to drop a repeat, and `X-Pathwatch-Signature` over the timestamp and body
 * (webhook-signature.ts). Redirects are not followed: the signed body would go wherever a
 * 3xx pointed.
 */
export class WebhookChannel implements AlertChannel {
  readonly name = 'webhook';
  private readonly secrets = new Map<string, string>();
  // Own keep-alive pools, so close() can end their sockets instead of leaving them to the global agent.
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 4 });
  private readonly closing = new AbortController();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Each list's webhook URL, its secret references filled in. */
  private readonly urls = new Map<string, string>();

  constructor(private readonly options: WebhookChannelOptions) {
    // Resolved up front, by reference: the resolver records each value, so every log line,
    // status and body masks it from the first alert on.
    for (const [list, settings] of Object.entries(options.alerting.lists)) {
      if (!settings.webhook) continue;
      this.secrets.set(list, options.secrets.interpolate(settings.webhook.secret));
      // The URL may hold its token by reference too (chat tools put it in the path).
      const url = options.secrets.interpolate(settings.webhook.url);
      if (!/^https?:\/\/[^/]/.test(url)) {
        throw new WebhookDeliveryError(
          `alerting.lists.${list}.webhook.url: expected an http:// or https:// URL once its secrets are filled in`,
          true,
        );
      }
      this.urls.set(list, url);
    }
  }

  async send(event: AlertEvent, context: AlertContext = EMPTY_ALERT_CONTEXT): Promise<ChannelReceipt> {
    return this.postJson(event, webhookPayload(event, context));
  }

  async deliver(event: AlertEvent, message: ChannelMessage): Promise<ChannelReceipt> {
    return this.postJson(event, message.json);
  }

  /** One signed POST of `payload` to the event's list's webhook. */
  private async postJson(event: AlertEvent, payload: unknown): Promise<ChannelReceipt> {
    const hook = this.options.alerting.lists[event.list]?.webhook;
    if (!hook) {
      throw new WebhookDeliveryError(
        `webhook alert to list "${event.list}": the list has no webhook (alerting.lists.${event.list}.webhook)`,
        true,
      );
    }
    const url = this.urls.get(event.list) ?? hook.url;
    const where = `webhook of list "${event.list}" at ${webhookTarget(url)}`;
    if (this.closing.signal.aborted) {
      // Shutting down: the alert stays queued for the next start.
      throw new WebhookDeliveryError(`${where}: not sent, the webhook channel is closed`, false);
    }
    const secret = this.secrets.get(event.list) ?? '';
    const mask = (text: string) => this.options.secrets.mask(text);
    // Masked before signing: a secret that reached an error text or a name never leaves.
    const body = Buffer.from(mask(JSON.stringify(payload)), 'utf8');
    const timestamp = Math.floor(Date.now() / 1000);
    const timeout = AbortSignal.timeout(hook.timeout);
    const request = this.post(
      new URL(url),
      body,
      {
        'content-type': 'application/json',
        'user-agent': `pathwatch/${PATHWATCH_VERSION}`,
        'x-pathwatch-event': event.kind,
        'x-pathwatch-delivery': event.key,
        'x-pathwatch-timestamp': String(timestamp),
        'x-pathwatch-signature': signWebhook(secret, timestamp, body),
      },
      AbortSignal.any([timeout, this.closing.signal]),
    );
    this.inFlight.add(request);
    let answer: HttpAnswer;
    try {
      answer = await request;
    } catch (error) {
      if (this.closing.signal.aborted) {
        throw new WebhookDeliveryError(`${where}: aborted, the webhook channel closed`, false);
      }
      if (timeout.aborted)
        throw new WebhookDeliveryError(`${where}: no answer within ${hook.timeout} ms`, false);
      throw new WebhookDeliveryError(mask(`${where} ${describeNetworkError(error)}`), false);
    } finally {
      this.inFlight.delete(request);
    }
    const said = oneLine(mask(answer.text)) || oneLine(answer.statusText);
    const response = `HTTP ${answer.status}${said ? ` ${said}` : ''}`;
    if (answer.status >= 200 && answer.status < 300) return { accepted: true, response };
    if (answer.status >= 300 && answer.status < 400) {
      const target = answer.location ? redirectTarget(answer.location, url) : undefined;
      const to = target ? ` (to ${target})` : '';
      throw new WebhookDeliveryError(
        `${where} answered HTTP ${answer.status}${to}: redirects are not followed: set the final URL`,
        true,
      );
    }
    throw new WebhookDeliveryError(`${where} answered ${response}`, !isRetryableStatus(answer.status));
  }

  /** Aborts the requests in flight (their alerts are retried after the next start) and refuses later sends. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled(this.inFlight);
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /**
   * One POST. Resolves once the answer's head and body are in, or as much of the body as
   * arrived when it ended early: the status alone says whether the alert was taken.
   */
  private post(
    url: URL,
    body: Buffer,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<HttpAnswer> {
    const secure = url.protocol === 'https:';
    return new Promise<HttpAnswer>((resolve, reject) => {
      let answered = false;
      const request = (secure ? https : http).request(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(body.length) },
          agent: secure ? this.httpsAgent : this.httpAgent,
          signal,
        },
        (response) => {
          answered = true;
          const chunks: Buffer[] = [];
          let kept = 0;
          response.on('data', (chunk: Buffer) => {
            if (kept >= RESPONSE_BYTES_KEPT) return;
            chunks.push(chunk);
            kept += chunk.length;
            // Enough for the status line: a receiver streaming a large page is not read to its end.
            if (kept >= RESPONSE_BYTES_KEPT) response.destroy();
          });
          response.on('error', () => {});
          response.on('close', () =>
            resolve({
              status: response.statusCode ?? 0,
              statusText: response.statusMessage ?? '',
              location: response.headers.location,
              text: Buffer.concat(chunks).subarray(0, RESPONSE_BYTES_KEPT).toString('utf8'),
            }),
          );
        },
      );
      // Once the head is in, an abort only cuts the body short: the status has been said.
      request.on('error', (error) => {
        if (!answered) reject(error);
      });
      request.end(body);
    });
  }
}
