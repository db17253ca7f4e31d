import { z } from 'zod';
import { duration, identifier } from '../config/zod-helpers.ts';

/** Longest a single run may take; longer belongs in a journey split into steps. */
export const MAX_TIMEOUT_MS = 120_000;

/**
 * Settings a check may set for itself and `defaults` sets for every check: defined once,
 * so both accept the same values.
 */
export const checkSettings = {
  /** How often to run. */
  interval: () => duration({ min: 1000, max: 86_400_000 }),
  /** Whole-run deadline. */
  timeout: () => duration({ min: 100, max: MAX_TIMEOUT_MS }),
  /** Locations to run from. */
  locations: () => z.array(identifier('location')).min(1),
  /** A failed run is tried again at once this many times before it counts. */
  retries: () => z.number().int().min(0).max(5),
  /** Pause before each retry. */
  retryDelay: () => duration({ max: 60_000 }),
  /** Counted failures in a row that make a check DOWN at a location. */
  downAfter: () => z.number().int().min(1).max(100),
  /** Passes in a row that make a DOWN check UP again. */
  upAfter: () => z.number().int().min(1).max(100),
};

/**
 * Fields every check kind shares. Kept as a raw shape (not a schema) so each kind can
 * spread it into its own strict object and unknown-key suggestions cover both.
 */
export const checkBaseShape = {
  /** Stable id: used in keys, URLs and alert subjects. */
  id: identifier('check'),
  /** Human name for emails and pages; defaults to the id. */
  name: z.string().min(1).optional(),
  /** How often to run; default from `defaults.interval`. */
  interval: checkSettings.interval().optional(),
  /** Whole-run deadline; default from `defaults.timeout`. */
  timeout: checkSettings.timeout().optional(),
  /** Locations to run from; default `defaults.locations`, else every declared location. */
  locations: checkSettings.locations().optional(),
  tags: z.array(z.string()).optional(),
  /** A disabled check is validated but never scheduled. */
  enabled: z.boolean().optional(),
  /** Override `defaults.retries` / `retryDelay` / `downAfter` / `upAfter` for this check. */
  retries: checkSettings.retries().optional(),
  retryDelay: checkSettings.retryDelay().optional(),
  downAfter: checkSettings.downAfter().optional(),
  upAfter: checkSettings.upAfter().optional(),
  /** Overrides `alerting.subject` for this check. */
  alertSubject: z.string().optional(),
};
