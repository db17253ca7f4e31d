import { z } from 'zod';
import { duration, identifier } from '../config/zod-helpers.ts';

/** Longest a single run may take; longer belongs in a journey split into steps. */
export const MAX_TIMEOUT_MS = 120_000;

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
  interval: duration({ min: 1000, max: 86_400_000 }).optional(),
  /** Whole-run deadline; default from `defaults.timeout`. */
  timeout: duration({ min: 100, max: MAX_TIMEOUT_MS }).optional(),
  /** Locations to run from; default `defaults.locations`, else every declared location. */
  locations: z.array(identifier('location')).min(1).optional(),
  tags: z.array(z.string()).optional(),
  /** A disabled check is validated but never scheduled. */
  enabled: z.boolean().optional(),
  /** Override `defaults.retries` / `retryDelay` / `downAfter` / `upAfter` for this check. */
  retries: z.number().int().min(0).max(5).optional(),
  retryDelay: duration({ max: 60_000 }).optional(),
  downAfter: z.number().int().min(1).max(100).optional(),
  upAfter: z.number().int().min(1).max(100).optional(),
  /** Overrides `alerting.subject` for this check. */
  alertSubject: z.string().optional(),
};
