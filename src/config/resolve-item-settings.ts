import type { ParsedConfig } from './config-schema.ts';

/**
 * The settings every monitored item (a check of any kind, a journey) runs with once the
 * config's `defaults` are applied. Resolved here, and only here, for both.
 */
// A type, not an interface: a resolved check stays assignable to Record<string, unknown>.
export type ItemSettings = {
  /** Human name for pages and emails; the id when not set. */
  name: string;
  interval: number;
  timeout: number;
  locations: string[];
  enabled: boolean;
  retries: number;
  retryDelay: number;
  downAfter: number;
  upAfter: number;
};

/** What an item may set for itself; anything unset comes from `defaults`. */
export type OwnItemSettings = { id: string } & Partial<ItemSettings>;

/**
 * Applies `defaults` (and, past them, every declared location) to what an item sets itself.
 * A journey's timeout is always its own (60 s unless its file says otherwise): `defaults.timeout`
 * is a probe's, at most 2 minutes, too short for a customer's path.
 */
export function resolveItemSettings(
  own: OwnItemSettings,
  defaults: ParsedConfig['defaults'],
  declaredLocations: string[],
): ItemSettings {
  return {
    name: own.name ?? own.id,
    interval: own.interval ?? defaults.interval,
    timeout: own.timeout ?? defaults.timeout,
    locations: own.locations ?? defaults.locations ?? declaredLocations,
    enabled: own.enabled ?? true,
    retries: own.retries ?? defaults.retries,
    retryDelay: own.retryDelay ?? defaults.retryDelay,
    downAfter: own.downAfter ?? defaults.downAfter,
    upAfter: own.upAfter ?? defaults.upAfter,
  };
}
