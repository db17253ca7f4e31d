import { z } from 'zod';
import { subjectTemplate } from '../config/alerting-schema.ts';
import { duration, identifier, strictObject } from '../config/zod-helpers.ts';

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
  alertSubject: subjectTemplate
    .optional()
    .describe("Overrides a route's `subject` and `alerting.subject` for this check's alerts."),
};

/** When a kind that can speak TLS does not (its `tls` block would then be a mistake). */
export interface TlsUse<Settings> {
  /** Whether these protocol settings speak TLS. */
  speaks: (settings: Settings) => boolean;
  /** Why not, as the setting reads: `ftp.secure is false`. */
  because: string;
  /** How to speak it: `set ftp.secure`. */
  fix: string;
}

/**
 * The schema of one check kind: the common settings, `kind`, the protocol's own block named
 * after the kind, and the shared `tls` and `auth` blocks (each kind says what they mean for
 * it, or refuses them with noTlsBlock / noAuthBlock). Every kind is built here, so every
 * kind has the same shape; `tlsUse` refuses a `tls` block on a check that will not use it.
 */
export function checkSchemaOf<
  const Kind extends string,
  Settings extends z.ZodType,
  Tls extends z.ZodType,
  Auth extends z.ZodType,
>(kind: Kind, blocks: { settings: Settings; tls: Tls; auth: Auth; tlsUse?: TlsUse<z.output<Settings>> }) {
  const shape = {
    ...checkBaseShape,
    kind: z.literal(kind).describe(`The protocol; its settings are in the \`${kind}\` block.`),
    // The tls kind's own block is its `tls` block: one key, the settings win.
    tls: blocks.tls,
    auth: blocks.auth,
    [kind]: blocks.settings,
  } as typeof checkBaseShape & { kind: z.ZodLiteral<Kind>; tls: Tls; auth: Auth } & Record<Kind, Settings>;
  const { tlsUse } = blocks;
  return strictObject(shape).superRefine((check, ctx) => {
    const record = check as Record<string, unknown>;
    if (!tlsUse || record.tls === undefined || tlsUse.speaks(record[kind] as z.output<Settings>)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['tls'],
      message: `this check never speaks TLS (${tlsUse.because}): ${tlsUse.fix}, or remove this block`,
    });
  });
}
