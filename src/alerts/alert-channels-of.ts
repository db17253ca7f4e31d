import type { AlertingSettings } from '../config/alerting-schema.ts';
import type { SecretResolver } from '../config/secret-resolver.ts';
import type { AlertChannel } from './alert-channel.ts';
import { EmailChannel } from './email-channel.ts';
import { WebhookChannel } from './webhook-channel.ts';

/** The channels `alerting` asks for: mail when `smtp` is set, webhooks when a list has one. */
export function alertChannelsOf(alerting: AlertingSettings, secrets: SecretResolver): AlertChannel[] {
  const channels: AlertChannel[] = [];
  if (alerting.smtp) channels.push(new EmailChannel({ alerting, secrets }));
  if (Object.values(alerting.lists).some((list) => list.webhook)) {
    channels.push(new WebhookChannel({ alerting, secrets }));
  }
  return channels;
}
