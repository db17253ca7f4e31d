import { formatPath } from './config-error.ts';

/**
 * Where each key of the old, flat check shape lives now, per kind: `url` of an http check is
 * `http.url`. Only for telling an operator with an old config where to move each key; the
 * schema knows nothing of the old shape.
 */
const MOVED_BY_KIND: Record<string, Record<string, string>> = {
  http: {
    url: 'http.url',
    method: 'http.method',
    headers: 'http.headers',
    body: 'http.body',
    followRedirects: 'http.followRedirects',
    forwardCredentialsOnRedirect: 'http.forwardCredentialsOnRedirect',
    ipVersion: 'http.ipVersion',
    expect: 'http.expect',
  },
  tcp: {
    host: 'tcp.host',
    port: 'tcp.port',
    ipVersion: 'tcp.ipVersion',
    banner: 'tcp.banner',
    steps: 'tcp.steps',
    lineEnding: 'tcp.lineEnding',
  },
  tls: {
    host: 'tls.host',
    port: 'tls.port',
    serverName: 'tls.serverName',
    ipVersion: 'tls.ipVersion',
    verify: 'tls.verify',
    ca: 'tls.ca',
    warnDays: 'tls.warnDays',
    failDays: 'tls.failDays',
    minVersion: 'tls.minVersion',
    issuer: 'tls.issuer',
  },
  smtp: {
    host: 'smtp.host',
    port: 'smtp.port',
    ehloName: 'smtp.ehloName',
    message: 'smtp.message',
    certificate: 'tls',
  },
  ftp: {
    host: 'ftp.host',
    port: 'ftp.port',
    secure: 'ftp.secure',
    list: 'ftp.list',
    retrieve: 'ftp.retrieve',
    certificate: 'tls',
    username: 'auth.username',
    password: 'auth.password',
  },
  dns: {
    server: 'dns.server',
    transport: 'dns.transport',
    query: 'dns.query',
    recordType: 'dns.recordType',
    recursionDesired: 'dns.recursionDesired',
    retryTruncatedOverTcp: 'dns.retryTruncatedOverTcp',
    expect: 'dns.expect',
  },
  crawl: {
    url: 'crawl.url',
    scope: 'crawl.scope',
    includeAssets: 'crawl.includeAssets',
    maxDepth: 'crawl.maxDepth',
    maxPages: 'crawl.maxPages',
    concurrency: 'crawl.concurrency',
    exclude: 'crawl.exclude',
    pageTimeout: 'crawl.pageTimeout',
    keywords: 'crawl.keywords',
  },
  ping: {
    host: 'ping.host',
    count: 'ping.count',
    size: 'ping.size',
    ipVersion: 'ping.ipVersion',
    maxLoss: 'ping.maxLoss',
    degradedLoss: 'ping.degradedLoss',
    maxRtt: 'ping.maxRtt',
    degradedRtt: 'ping.degradedRtt',
  },
};

/** A key of the old shape found in a config, and where it goes now. */
export interface MovedKey {
  /** Index in `checks`. */
  check: number;
  /** Its path inside the check: `['url']`, `['expect', 'certDaysLeft']`. */
  from: PropertyKey[];
  /** Where it belongs now, inside the check: `http.url`; may add how (`… (true)`). */
  to: string;
  /** The protocol block it moves into, when it does: a missing block is then not reported on its own. */
  block?: string;
  /** Problems under this path of the check follow from the old shape and are not reported on their own. */
  covers: PropertyKey[];
}

type Loose = Record<string, unknown>;

function asObject(value: unknown): Loose | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Loose) : undefined;
}

/** Every old-shape key in the raw config's checks, tolerant of any shape. */
export function findMovedCheckKeys(raw: unknown): MovedKey[] {
  const checks = asObject(raw)?.checks;
  if (!Array.isArray(checks)) return [];
  const found: MovedKey[] = [];
  for (const [index, entry] of checks.entries()) {
    const check = asObject(entry);
    const kind = typeof check?.kind === 'string' ? check.kind : undefined;
    if (!check || !kind || !(kind in MOVED_BY_KIND)) continue;
    const add = (from: PropertyKey[], to: string, covers = from) =>
      found.push({ check: index, from, to, block: to.startsWith(`${kind}.`) ? kind : undefined, covers });
    for (const [key, to] of Object.entries(MOVED_BY_KIND[kind])) if (key in check) add([key], to);
    const hasBlock = asObject(check[kind]) !== undefined;
    const tls = check.tls;
    if (kind === 'tcp' && tls !== undefined && !hasBlock)
      add(['tls'], 'tcp.tls: true (serverName, verify and ca stay in tls)');
    if (kind === 'smtp' && typeof tls === 'string') add(['tls'], 'smtp.tls');
    // The old ping `interval` was the echo gap; the top-level one is now the schedule.
    if (kind === 'ping' && 'interval' in check && !hasBlock) add(['interval'], 'ping.interval');
    if (kind === 'http') {
      if (asObject(check.auth)?.basic !== undefined)
        add(['auth', 'basic'], 'auth (username, password)', ['auth']);
      for (const parent of [['expect'], ['http', 'expect']])
        if (asObject(readPath(check, parent))?.certDaysLeft !== undefined)
          add([...parent, 'certDaysLeft'], 'tls.failDays');
    }
  }
  return found;
}

function readPath(value: unknown, path: string[]): unknown {
  let current = value;
  for (const key of path) current = asObject(current)?.[key];
  return current;
}

/** `checks[0].url: moved: write it as checks[0].http.url`, as path and message. */
export function movedKeyIssue(moved: MovedKey): { path: string; message: string } {
  return {
    path: formatPath(['checks', moved.check, ...moved.from]),
    message: `moved: write it as checks[${moved.check}].${moved.to}`,
  };
}
