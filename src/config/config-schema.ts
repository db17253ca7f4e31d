import { z } from 'zod';
import { API_ROLES } from '../auth/api-role.ts';
import { isApiTokenHash } from '../auth/api-token.ts';
import { checkSettings } from '../checks/check-base.ts';
import { checkSchema } from '../checks/registry.ts';
import { browserSettingsSchema } from '../journeys/browser-settings.ts';
import { playwrightSuiteSchema } from '../journeys/specs/playwright-suite-schema.ts';
import { alertingSchema } from './alerting-schema.ts';
import { artifactsSchema } from './artifacts-schema.ts';
import { maintenanceListSchema } from './maintenance-schema.ts';
import { periodicCollectionsSchema } from './periodic-collection-schema.ts';
import { rateLimitSchema } from './rate-limit-schema.ts';
import { reportsSchema } from './reports-schema.ts';
import { retentionSchema } from './retention-schema.ts';
import { secretRef } from './secret-resolver.ts';
import { uniqueNames } from './unique-names.ts';
import { byteSize, duration, identifier, strictObject } from './zod-helpers.ts';

const locationSchema = strictObject({
  description: z
    .string()
    .optional()
    .describe('Shown on pages and in emails: "Frankfurt data centre, rack 4". Default none.'),
  controlCheck: z
    .string()
    .optional()
    .describe(
      "Id of a check that only tests this probe host's own network (its gateway, a well-known address); when it fails the location is at fault, not the target. Default none.",
    ),
  side: z
    .enum(['inside', 'outside'])
    .optional()
    .describe(
      'Where the probe host sits: `inside` the data centre or `outside` (a cloud); the verdict compares the two sides. Default `outside` for a location named "outside…", else `inside`.',
    ),
});

const CLEAR_TOKEN_MESSAGE =
  'tokens are kept as hashes, not as tokens or secret references: run `pathwatch token create --name <who> --role viewer|operator|admin` and write the { name, hash, role } it prints';

const apiTokenEntrySchema = z.preprocess(
  (value, ctx) => {
    if (typeof value !== 'string') return value;
    ctx.addIssue({ code: 'custom', message: CLEAR_TOKEN_MESSAGE });
    return z.NEVER;
  },
  strictObject({
    /** Who holds it, for logs: `wall-screen`, `on-call`. */
    name: identifier('token name').describe(
      'Who holds the token, for logs: `wall-screen`, `on-call`. Required.',
    ),
    /** `sha256:<64 hex digits>` of the token, as `pathwatch token create` prints it. */
    hash: z
      .string()
      .refine(isApiTokenHash, {
        error: 'expected "sha256:" and 64 hex digits, as `pathwatch token create` prints it',
      })
      .describe('`sha256:<64 hex digits>` of the token, as `pathwatch token create` prints it. Required.'),
    role: z
      .enum(API_ROLES, {
        error: (issue) => `expected one of ${API_ROLES.join(', ')}, got ${JSON.stringify(issue.input)}`,
      })
      .describe(
        "`viewer` reads states, runs and screenshots; `operator` also opens traces, HARs and captures and asks for runs; `admin` also sets maintenance and silences; `worker` only uploads a remote worker's artifacts (`artifacts.deliverTo`) and reads nothing. Required.",
      ),
  }),
);

const apiSchema = strictObject({
  host: z.string().default('127.0.0.1').describe('Address the API listens on. Default 127.0.0.1.'),
  port: z
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(4600)
    .describe('Port the API listens on (0: any free port). Default 4600.'),
  /**
   * Who may call the API: each token by its SHA-256 hash (never the token), with a role.
   * None means the API is open (bind it to localhost). `pathwatch token create` makes one.
   */
  tokens: z
    .array(apiTokenEntrySchema)
    // Audit lines and console sessions name a token: two of one name would be one person.
    .superRefine(
      uniqueNames(
        (name, first) =>
          `"${name}" is already the name of api.tokens[${first}]; each token needs its own name (logs and console sessions name it)`,
      ),
    )
    .default([])
    .describe(
      'Who may call the API: `{ name, hash, role }` per token, the token by its SHA-256 hash as `pathwatch token create` prints it. None (or only `worker` tokens) means the API is open to readers (bind it to localhost); an upload always needs a `worker` token. Default none.',
    ),
  /** Routes answered without a token even when tokens are set (scrapers, probes). */
  openRoutes: z
    .array(z.enum(['metrics', 'health']))
    .default(['metrics', 'health'])
    .describe('Routes answered without a token even when tokens are set (scrapers, probes).'),
  linkKey: secretRef()
    .optional()
    .describe(
      "Key that signs the expiring links to one run's evidence (mails, pages): a secret reference to at least 32 random characters, the same on every API process. Default: a key made once and kept in `<dataDir>/link-key`.",
    ),
  linkTtl: duration({ min: 60_000, max: 30 * 86_400_000 })
    .default(7 * 86_400_000)
    .describe("How long a signed link to a run's evidence opens it. Default 7d."),
  /** Address people use to reach the API, for links in emails. */
  publicUrl: z
    .string()
    .optional()
    .describe('Address people use to reach the API, for links in emails. Default none.'),
  rateLimit: rateLimitSchema
    .prefault({})
    .describe('How many requests one client may make (fields below). Default 600 a minute.'),
});

const captureSchema = strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe('false keeps the settings but runs no capture (no tcpdump, no slices). Default true.'),
  interface: z
    .string()
    .default('any')
    .describe('Network interface tcpdump listens on; `any` is every interface. Default `any`.'),
  filter: z
    .string()
    .default('')
    .describe(
      'tcpdump filter expression for the ring, e.g. "tcp or udp port 53". Default none: every packet.',
    ),
  ringSize: byteSize()
    .default(1024 ** 3)
    .describe('Disk the ring of pcap files may use; the oldest file goes first. Default 1GiB.'),
  fileSize: byteSize()
    .default(16 * 1024 ** 2)
    .describe('Size of one ring file. Default 16MiB.'),
  maxAge: duration({ min: 60_000 })
    .default(3_600_000)
    .describe('Ring files older than this are deleted (at least 1m). Default 1h.'),
  snaplen: z
    .number()
    .int()
    .min(64)
    .max(262_144)
    .default(262_144)
    .describe('Bytes tcpdump reads of each packet (`tcpdump -s`), before `payload` cuts it. Default 262144.'),
  payload: z
    .enum(['headers', 'full'])
    .default('headers')
    .describe(
      'What the ring, and so every slice and collection, keeps of each packet: it is cut before it is written to disk. `headers`: link, IP, TCP/UDP and ICMP headers, whole DNS messages and clear-text TLS handshake records; every other payload byte is cut (HTTP headers such as Authorization included). `full`: packets as captured, up to the snaplen. Default `headers`.',
    ),
  bufferSize: byteSize()
    .default(16 * 1024 ** 2)
    .describe(
      'Kernel capture buffer (`tcpdump -B`); a bigger one drops fewer packets in a burst. Default 16MiB.',
    ),
  collections: periodicCollectionsSchema
    .default([])
    .describe('Scheduled slices of the ring kept as artifacts (fields below). Default none.'),
  before: duration().default(10_000).describe('Traffic kept from before a failed run. Default 10s.'),
  after: duration().default(5000).describe('Traffic kept from after a failed run. Default 5s.'),
});

const defaultsSchema = strictObject({
  interval: checkSettings
    .interval()
    .default(60_000)
    .describe('How often a check is scheduled (1s to 1d). Default 1m.'),
  timeout: checkSettings.timeout().default(10_000).describe('Whole-run deadline (at most 2m). Default 10s.'),
  locations: checkSettings
    .locations()
    .optional()
    .describe('Locations a check runs from unless it names its own. Default every declared location.'),
  retries: checkSettings
    .retries()
    .default(1)
    .describe('A failed run is tried again at once this many times before it counts. Default 1.'),
  retryDelay: checkSettings
    .retryDelay()
    .default(1000)
    .describe('Pause before each retry (at most 1m). Default 1s.'),
  downAfter: checkSettings
    .downAfter()
    .default(1)
    .describe('Counted failures in a row that make a check DOWN at a location. Default 1.'),
  upAfter: checkSettings
    .upAfter()
    .default(1)
    .describe('Passes in a row that make a DOWN check UP again. Default 1.'),
});

export const configSchema = strictObject({
  locations: z
    .record(identifier('location'), locationSchema)
    .refine((locations) => Object.keys(locations).length > 0, { error: 'declare at least one location' })
    .describe(
      'Vantage points, by id (`inside`, `outside`); every check runs from its locations. Required, at least one.',
    ),
  defaults: defaultsSchema
    .default(defaultsSchema.parse({}))
    .describe('Settings every check takes unless it sets its own.'),
  checks: z
    .array(checkSchema)
    .default([])
    .describe(
      "The checks: common settings at the top level, the protocol's own in a block named after the kind, plus `tls` and `auth`. Default none.",
    ),
  journeys: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe(
      'Glob(s) of journey files relative to the config, e.g. "journeys/*.journey.ts" (`*`, `**`, `{a,b}`; node_modules is never searched; a glob that matches nothing is a problem). Default none.',
    ),
  playwright: z
    .array(playwrightSuiteSchema)
    .optional()
    .describe(
      'Playwright Test suites monitored as they are: each test their config lists becomes a journey (see "Playwright Test specs as monitors"). Default none.',
    ),
  alerting: alertingSchema
    .optional()
    .describe(
      'Alert mails and webhooks when a check changes state: who hears about what, reminders, escalation, storms. Default off.',
    ),
  maintenance: maintenanceListSchema
    .default([])
    .describe(
      'Maintenance windows: alerts about what they cover are held back; each start and end is announced. More can be set through the API. Default none.',
    ),
  api: apiSchema.prefault({}).describe('The HTTP API: where it listens and who may use it.'),
  capture: captureSchema
    .optional()
    .describe(
      'Packet capture: a ring of pcap files and the slices cut from it around failed runs. Default off.',
    ),
  artifacts: artifactsSchema
    .prefault({})
    .describe(
      "Where a worker's artifacts go when it does not share the API's disk, and how large an upload the API takes.",
    ),
  dataDir: z
    .string()
    .default('.pathwatch')
    .describe(
      'Where artifacts (traces, captures) and the private Redis live, relative to the config. Default `.pathwatch`.',
    ),
  redis: strictObject({
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .default('pathwatch')
      .describe('Key prefix, so several installations (or tests) can share one Redis. Default `pathwatch`.'),
  })
    .default({ prefix: 'pathwatch' })
    .describe('How pathwatch keeps its data in Redis (the server is `REDIS_URL` or a private one).'),
  workers: strictObject({
    probeConcurrency: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(10)
      .describe('Protocol checks run at once per worker. Default 10.'),
    browserConcurrency: z
      .number()
      .int()
      .min(1)
      .max(32)
      .default(1)
      .describe('Browser journeys run at once per worker (more than 2 adds nothing on 2 cores). Default 1.'),
    stalledAfter: duration({ min: 1000, max: 600_000 })
      .default(30_000)
      .describe(
        'A run whose worker stops renewing its lock for this long (killed, frozen, cut off from Redis) is handed to another worker and redone under the same run id. Default 30s.',
      ),
  })
    .default({ probeConcurrency: 10, browserConcurrency: 1, stalledAfter: 30_000 })
    .describe('How much each worker runs at once, and when a run is taken from a worker that stopped.'),
  browser: browserSettingsSchema
    .default(browserSettingsSchema.parse({}))
    .describe('How journeys drive Chromium, and which evidence they keep.'),
  rollupDays: z
    .number()
    .int()
    .min(1)
    .max(400)
    .default(30)
    .describe('Days hourly rollups (count, failures, latency percentiles) are kept. Default 30.'),
  runsPerSeries: z
    .number()
    .int()
    .min(10)
    .max(10_000)
    .default(200)
    .describe(
      'Runs kept per check and location, with their full records; older ones are deleted. Default 200.',
    ),
  keepRuns: duration({ min: 3_600_000, max: 400 * 86_400_000 })
    .default(14 * 86_400_000)
    .describe("A run's record expires after this even when its series is short. Default 14d."),
  retention: retentionSchema
    .prefault({})
    .describe(
      'How long artifacts (captures, traces, screenshots, HAR, bundles) are kept: an age and a total size per kind, enforced every `every`. Default: captures 7d, bundles 30d, the rest 14d.',
    ),
  reports: reportsSchema.prefault({}).describe('Availability reports: the target they are held against.'),
  secretsFile: z
    .string()
    .optional()
    .describe(
      'YAML file of `NAME: value` pairs for `${file:NAME}` references, relative to the config. Default none.',
    ),
});

/** What an operator writes (durations as strings, defaults optional). */
export type ConfigInput = z.input<typeof configSchema>;
/** What pathwatch runs on (durations in ms, defaults filled in). */
export type ParsedConfig = z.output<typeof configSchema>;
