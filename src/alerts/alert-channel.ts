import type { AlertEvent } from './alert-event.ts';

/** What the far side said about one alert. */
export interface ChannelReceipt {
  /** The server took it (for mail: at least one recipient accepted). */
  accepted: boolean;
  /** Its reply line, e.g. `250 2.0.0 Ok: queued as 4Bx1`. */
  response: string;
  /** The Message-ID the alert went out with, where the channel has one. */
  messageId?: string;
}

/**
 * Where alerts go: email today, a webhook beside it later. `send` throws when the alert
 * could not be handed over (server unreachable, refused): the alert worker retries it.
 * Throwing an error with `permanent: true` says a retry cannot help.
 */
export interface AlertChannel {
  readonly name: string;
  send(event: AlertEvent): Promise<ChannelReceipt>;
  /** Closes its connections; sends after close are refused. */
  close(): Promise<void>;
}
