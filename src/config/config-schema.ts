import { z } from 'zod';
import { periodicCollectionsSchema } from '../../capture/periodic-collection.ts';
import { checkSettings } from '../checks/check-base.ts';
import { checkSchema } from '../checks/registry.ts';
import { browserSettingsSchema } from '../journeys/browser-settings.ts';
import { secretRef } from './secret-resolver.ts';
import { byteSize, duration, identifier, strictObject } from './zod-helpers.ts';

/** Placeholders an alert subject may use; anything else is a config error, not a literal. */
export const SUBJECT_PLACEHOLDERS = [
  'check',
  'checkId',
  'state',
  'location',
  'verdict',
  'error',
  'kind',
] as const;

const subjectTemplate = z.string().superRefine((template, ctx) => {
  for (const match of template.matchAll(/\{\{\s*([^}\s]+)\s*\}\}/g)) {
    if (!(SUBJECT_PLACEHOLDERS as readonly string[]).includes(match[1])) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown placeholder {{${match[1]}}}, expected one of ${SUBJECT_PLACEHOLDERS.map((name) => `{{${name}}}`).join(', ')}`,
      });
    }
  }
});

const locationSchema = strictObject({
  /** Shown on pages and in emails: "Frankfurt data centre, rack 4". */
  description: z.string().optional(),
  /**
   * A check that only tests this probe host's own network (its gateway, a well-known
   * address). When it fails the location is at fault, not the target.
   */
  controlCheck: z.string().optional(),
  /**
   * Where the probe host sits: `inside` the data centre or `outside` (a cloud). The verdict
   * compares the two sides. Default: `outside` for a location named "outside…", else `inside`.
   */
  side: z.enum(['inside', 'outside']).optional(),
});

const emailAddress = z.string().regex(/^[^@\s]+@[^@\s]+$/, {
  error: (issue) => `expected an email address, got ${JSON.stringify(issue.input)}`,
});

const alertingSchema = strictObject({
  smtp: strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** true: TLS from the first byte (port 465); false: STARTTLS when offered. */
    secure: z.boolean().default(false),
    user: z.string().optional(),
    password: secretRef().optional(),
  }),
  from: emailAddress,
  to: z.array(emailAddress).min(1),
  /** `{{check}}`, `{{state}}`, `{{location}}`, `{{verdict}}`, `{{error}}`, `{{kind}}`, `{{checkId}}`. */
  subject: subjectTemplate.default('[pathwatch] {{check}} is {{state}} at {{location}}'),
});

const apiSchema = strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(4600),
  /** Bearer tokens accepted by the API; none means the API is open (bind it to localhost). */
  tokens: z.array(secretRef()).default([]),
  /** Address people use to reach the API, for links in emails. */
  publicUrl: z.string().optional(),
});

const captureSchema = strictObject({
  enabled: z.boolean().default(true),
  interface: z.string().default('any'),
  /** tcpdump filter expression for the ring, e.g. "tcp or udp port 53". */
  filter: z.string().default(''),
  ringSize: byteSize().default(1024 ** 3),
  fileSize: byteSize().default(16 * 1024 ** 2),
  maxAge: duration({ min: 60_000 }).default(3_600_000),
  snaplen: z.number().int().min(64).max(262_144).default(262_144),
  /**
   * What the ring, and so every slice and collection, keeps of each packet: it is cut
   * before it is written to disk. `headers` (default): link, IP, TCP/UDP
   * and ICMP headers, whole DNS messages and clear-text TLS handshake records; every other
   * payload byte is cut (HTTP headers such as Authorization included). `full`: packets as
   * captured, up to the snaplen.
   */
  payload: z.enum(['headers', 'full']).default('headers'),
  bufferSize: byteSize().default(16 * 1024 ** 2),
  /** Scheduled slices of the ring kept as artifacts: `[{ id, every, window, peers, ports, includeDns, keep }]`. */
  collections: periodicCollectionsSchema.default([]),
  /** Seconds of traffic kept before and after a failed run. */
  before: duration().default(10_000),
  after: duration().default(5000),
});

const defaultsSchema = strictObject({
  interval: checkSettings.interval().default(60_000),
  timeout: checkSettings.timeout().default(10_000),
  locations: checkSettings.locations().optional(),
  /** A failed run is tried again at once this many times before it counts (default 1). */
  retries: checkSettings.retries().default(1),
  /** Pause before each retry (default 1s). */
  retryDelay: checkSettings.retryDelay().default(1000),
  /** Counted failures in a row that make a check DOWN at a location (default 1). */
  downAfter: checkSettings.downAfter().default(1),
  /** Passes in a row that make a DOWN check UP again (default 1). */
  upAfter: checkSettings.upAfter().default(1),
});

export const configSchema = strictObject({
  /** Vantage points, by id: `inside`, `outside`. Every check runs from its locations. */
  locations: z
    .record(identifier('location'), locationSchema)
    .refine((locations) => Object.keys(locations).length > 0, { error: 'declare at least one location' }),
  defaults: defaultsSchema.default(defaultsSchema.parse({})),
  checks: z.array(checkSchema).default([]),
  /** Glob(s) of journey files relative to the config, e.g. "journeys/*.journey.ts". */
  journeys: z.union([z.string(), z.array(z.string())]).optional(),
  alerting: alertingSchema.optional(),
  api: apiSchema.default({ host: '127.0.0.1', port: 4600, tokens: [] }),
  capture: captureSchema.optional(),
  /** Where artifacts (traces, captures) and the private Redis live, relative to the config. */
  dataDir: z.string().default('.pathwatch'),
  redis: strictObject({
    /** Key prefix, so several installations (or tests) can share one Redis. */
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .default('pathwatch'),
  }).default({ prefix: 'pathwatch' }),
  workers: strictObject({
    /** Protocol checks run at once per worker. */
    probeConcurrency: z.number().int().min(1).max(1000).default(10),
    /** Browser journeys run at once per worker (more than 2 adds nothing on 2 cores). */
    browserConcurrency: z.number().int().min(1).max(32).default(1),
    /**
     * A run whose worker stops renewing its lock for this long (killed, frozen, cut off
     * from Redis) is handed to another worker and redone under the same run id (default 30s).
     */
    stalledAfter: duration({ min: 1000, max: 600_000 }).default(30_000),
  }).default({ probeConcurrency: 10, browserConcurrency: 1, stalledAfter: 30_000 }),
  /** How journeys drive Chromium, and which evidence they keep. */
  browser: browserSettingsSchema.default(browserSettingsSchema.parse({})),
  /** How long hourly rollups (count, failures, latency percentiles) are kept (default 30). */
  rollupDays: z.number().int().min(1).max(400).default(30),
  /** Runs kept per check and location, with their full records (default 200; older ones are deleted). */
  runsPerSeries: z.number().int().min(10).max(10_000).default(200),
  /** A run's record expires after this even when its series is short (default 14d). */
  keepRuns: duration({ min: 3_600_000, max: 400 * 86_400_000 }).default(14 * 86_400_000),
  /** YAML file of NAME: value pairs for `${file:NAME}` references, relative to the config. */
  secretsFile: z.string().optional(),
});

/** What an operator writes (durations as strings, defaults optional). */
export type ConfigInput = z.input<typeof configSchema>;
/** What pathwatch runs on (durations in ms, defaults filled in). */
export type ParsedConfig = z.output<typeof configSchema>;
