import { z } from 'zod';
import { closestMatch } from '../util/closest-match.ts';
import { crawlCheckSchema, crawlProbe } from './crawl.ts';
import { dnsCheckSchema, dnsProbe } from './dns.ts';
import { ftpCheckSchema, ftpProbe } from './ftp.ts';
import { httpCheckSchema, httpProbe } from './http.ts';
import { pingCheckSchema, pingProbe } from './ping.ts';
import type { Probe } from './probe.ts';
import { smtpCheckSchema, smtpProbe } from './smtp.ts';
import { tcpCheckSchema, tcpProbe } from './tcp.ts';
import { tlsCheckSchema, tlsProbe } from './tls.ts';
import { udpCheckSchema, udpProbe } from './udp/udp-probe.ts';

/**
 * The ONLY map from check kind to schema and probe. Adding a protocol is one module,
 * one line here; nothing else in pathwatch branches on `kind`.
 */
const registry = {
  http: { schema: httpCheckSchema, probe: httpProbe },
  dns: { schema: dnsCheckSchema, probe: dnsProbe },
  tcp: { schema: tcpCheckSchema, probe: tcpProbe },
  tls: { schema: tlsCheckSchema, probe: tlsProbe },
  smtp: { schema: smtpCheckSchema, probe: smtpProbe },
  ftp: { schema: ftpCheckSchema, probe: ftpProbe },
  crawl: { schema: crawlCheckSchema, probe: crawlProbe },
  ping: { schema: pingCheckSchema, probe: pingProbe },
  udp: { schema: udpCheckSchema, probe: udpProbe },
} as const;

export type CheckKind = keyof typeof registry;
export const CHECK_KINDS = Object.keys(registry) as CheckKind[];

const schemas = Object.values(registry).map((entry) => entry.schema);

/** One discriminated union over every kind; a wrong kind lists the kinds that exist. */
export const checkSchema = z.discriminatedUnion('kind', schemas as unknown as [typeof httpCheckSchema], {
  error: (issue) => {
    if (issue.code !== 'invalid_union') return undefined;
    const given = (issue.input as { kind?: unknown } | undefined)?.kind;
    if (given === undefined) return `missing "kind": expected one of ${CHECK_KINDS.join(', ')}`;
    const suggestion = typeof given === 'string' ? closestMatch(given, CHECK_KINDS) : undefined;
    return `unknown kind ${JSON.stringify(given)}, expected one of ${CHECK_KINDS.join(', ')}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`;
  },
});

export type CheckConfig = z.output<typeof checkSchema>;

export function probeFor(check: CheckConfig): Probe<CheckConfig> {
  return registry[check.kind as CheckKind].probe as Probe<CheckConfig>;
}
