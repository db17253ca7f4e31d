import { alertItems } from '../../src/alerts/alert-items.ts';
import { AlertRouting } from '../../src/alerts/alert-routing.ts';
import type { LoadedConfig } from '../../src/config/load-config.ts';

/** The routing the stack builds from a config with `alerting` (its checks, no journeys). */
export function routingOf(config: LoadedConfig): AlertRouting {
  const alerting = config.settings.alerting;
  if (!alerting) throw new Error('the config has no alerting block');
  return new AlertRouting(alerting, new Map(alertItems(config).map((item) => [item.id, item])));
}
