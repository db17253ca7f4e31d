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
 * Fields every check kind shares, at the top level of a check; the protocol's own settings
 * sit in the block named after the kind (`http:`, `tcp:`…), TLS in `tls:`, credentials in
 * `auth:`. Kept as a raw shape (not a schema) so each kind can spread it into its own strict
 * object and unknown-key suggestions cover both.
 */
export const checkBaseShape = {
  id: identifier('check').describe('Stable id: used in keys, URLs and alert subjects. Required.'),
  name: z.string().min(1).optional().describe('Human name for emails and pages. Default: the id.'),
  interval: checkSettings
    .interval()
    .optional()
    .describe('How often the check is scheduled (at least 1s). Default `defaults.interval`.'),
  timeout: checkSettings
    .timeout()
    .optional()
    .describe('Whole-run deadline (at most 2m). Default `defaults.timeout`.'),
  locations: checkSettings
    .locations()
    .optional()
    .describe('Locations to run from. Default `defaults.locations`, else every declared location.'),
  tags: z.array(z.string()).optional().describe('Free labels for filtering. Default none.'),
  enabled: z
    .boolean()
    .optional()
    .describe('A disabled check is validated but never scheduled. Default true.'),
  retries: checkSettings
    .retries()
    .optional()
    .describe(
      'A failed run is tried again at once this many times before it counts. Default `defaults.retries`.',
    ),
  retryDelay: checkSettings
    .retryDelay()
    .optional()
    .describe('Pause before each retry. Default `defaults.retryDelay`.'),
  downAfter: checkSettings
    .downAfter()
    .optional()
    .describe(
      'Counted failures in a row that make the check DOWN at a location. Default `defaults.downAfter`.',
    ),
  upAfter: checkSettings
    .upAfter()
    .optional()
    .describe('Passes in a row that make a DOWN check UP again. Default `defaults.upAfter`.'),
  alertSubject: z.string().optional().describe('Overrides `alerting.subject` for this check.'),
};
