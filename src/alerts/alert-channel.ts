import type { AlertContext } from './alert-context.ts';
import type { AlertEvent } from './alert-event.ts';

/** What the far side said about one alert. */
export interface ChannelReceipt {
  /** The server took it (for mail: at least one recipient accepted). */
  accepted: boolean;
  /** Its reply line, e.g. `250 2.0.0 Ok: queued as 4Bx1` or `HTTP 202 Accepted`. */
  response: string;
  /** The Message-ID the alert went out with, where the channel has one. */
  messageId?: string;
}

/**
 * Something other than an alert, sent to a list through its channel (the monthly report):
 * the mail its recipients read, and the JSON its webhook receives.
 */
export interface ChannelMessage {
  mail: {
    subject: string;
    text: string;
    html: string;
    /** Attached files (not inline). */
    attachments: Array<{ filename: string; content: string | Buffer; contentType: string }>;
  };
  json: unknown;
}

/**
 * Where alerts go: email, or a webhook beside it. `send` throws when the alert could not be
 * handed over (server unreachable, refused): the alert worker retries it. Throwing an error
 * with `permanent: true` says a retry cannot help. The event names its recipient list; the
 * context is the evidence read when it is sent.
 */
export interface AlertChannel {
  readonly name: AlertEvent['channel'];
  send(event: AlertEvent, context: AlertContext): Promise<ChannelReceipt>;
  /** A message of another kind to the event's list, with the same retries, key and failures as an alert. */
  deliver(event: AlertEvent, message: ChannelMessage): Promise<ChannelReceipt>;
  /** Closes its connections; sends after close are refused. */
  close(): Promise<void>;
}
