import { randomInt } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { z } from 'zod';
import { strictObject } from '../config/zod-helpers.ts';
import { errorOf } from '../results/error-codes.ts';
import type { Peer } from '../results/run-result.ts';
import { checkSchemaWithoutTlsOrAuth } from './check-schema-without-tls-or-auth.ts';
import { answerShapeProblem } from './dns/answer-shape.ts';
import type { DnsExchange, DnsReply } from './dns/dns-exchange.ts';
import {
  describeDnsFailure,
  dnsExpectationsSchema,
  evaluateDnsExpectations,
} from './dns/dns-expectations.ts';
import { DNS_RECORD_TYPES } from './dns/dns-record-types.ts';
import { formatDnsServer, parseDnsServer } from './dns/dns-server-address.ts';
import { isQueryName, questionName } from './dns/query-name.ts';
import { recordLine, recordText } from './dns/record-text.ts';
import { exchangeTcp } from './dns/tcp-exchange.ts';
import { exchangeUdp } from './dns/udp-exchange.ts';
import { ProbeError } from './errors/probe-error.ts';
import { PhaseClock } from './phase-clock.ts';
import type { Probe } from './probe.ts';

/** The `dns:` block: which server to ask what, and what counts as a good answer. */
export const dnsSettingsSchema = strictObject(
  {
    server: z
      .string({ error: 'required, expected a DNS server address such as "10.0.0.53" or "10.0.0.53:5353"' })
      .refine((text) => parseDnsServer(text) !== undefined, {
        error: (issue) =>
          `expected an IP address with an optional port, such as "10.0.0.53", "10.0.0.53:5353" or "[2001:db8::53]:53" (the exact server to ask, not a host name), got ${JSON.stringify(issue.input)}`,
      })
      .describe(
        'The exact server to ask: `10.0.0.53`, `10.0.0.53:5353`, `::1` or `[::1]:5353` (port default 53). An IP address, not a name: looking a name up would test another server. Required.',
      ),
    transport: z.enum(['udp', 'tcp']).default('udp').describe('`udp` or `tcp`. Default `udp`.'),
    query: z
      .string({ error: 'required, expected the name to ask about, such as "shop.example"' })
      .refine(isQueryName, {
        error: (issue) =>
          `expected a DNS name such as "shop.example" (labels of 1–63 characters, 253 in all), got ${JSON.stringify(issue.input)}`,
      })
      .describe(
        'The name to ask about: `shop.example`. For PTR an IP address is turned into its reverse name. Required.',
      ),
    recordType: z.enum(DNS_RECORD_TYPES).default('A').describe('Record type to ask for. Default `A`.'),
    recursionDesired: z
      .boolean()
      .default(true)
      .describe(
        'Set the RD flag, asking a resolver to recurse; off asks an authoritative server only what it holds. Default true.',
      ),
    retryTruncatedOverTcp: z
      .boolean()
      .default(true)
      .describe(
        'Over UDP, repeat the query over TCP when the answer comes back truncated (TC flag). Default true.',
      ),
    expect: dnsExpectationsSchema
      .prefault({})
      .describe('What counts as a good answer. Default: NOERROR with at least one record of the asked type.'),
  },
  { what: 'the dns settings, such as { server: "10.0.0.53", query: "shop.example" }' },
)
  .superRefine((settings, ctx) => {
    // Expected answers are checked against the record type here, at load time, because an
    // A check expecting "10.0.0.300" would otherwise fail every run with a puzzling diff.
    for (const field of ['answers', 'answersContain'] as const) {
      for (const [index, value] of (settings.expect[field] ?? []).entries()) {
        const problem = answerShapeProblem(settings.recordType, value);
        if (problem) ctx.addIssue({ code: 'custom', path: ['expect', field, index], message: problem });
      }
    }
  })
  .describe('Which server to ask what, and what counts as a good answer.');

export const dnsCheckSchema = checkSchemaWithoutTlsOrAuth('dns', dnsSettingsSchema);
export type DnsCheck = z.output<typeof dnsCheckSchema>;

export const dnsProbe: Probe<DnsCheck> = {
  async run(check, context) {
    const settings = check.dns;
    const server = parseDnsServer(settings.server);
    if (!server)
      throw new Error(
        `dns check ${check.id}: server ${settings.server} passed validation but does not parse`,
      );
    const target = formatDnsServer(server);
    const name = questionName(settings.query, settings.recordType);
    const asked = { id: randomInt(0, 65_536), type: settings.recordType, name };
    const question = `${asked.type} ${asked.name}`;
    const clock = new PhaseClock();
    const peers: Peer[] = [{ ip: server.ip, port: server.port }];
    const exchange: DnsExchange = {
      server,
      target,
      asked,
      query: dnsPacket.encode({
        type: 'query',
        id: asked.id,
        flags: settings.recursionDesired ? dnsPacket.RECURSION_DESIRED : 0,
        questions: [{ type: settings.recordType, name, class: 'IN' }],
      }),
      signal: context.signal,
      timeoutMs: context.timeoutMs,
      clock,
    };
    const details: Record<string, unknown> = { server: target, transport: settings.transport, question };
    let reply: DnsReply;
    try {
      reply = settings.transport === 'tcp' ? await exchangeTcp(exchange) : await exchangeUdp(exchange);
      if (reply.response.flag_tc && settings.transport === 'udp' && settings.retryTruncatedOverTcp) {
        // The same query (same id) over TCP, so a capture shows both halves as one question.
        details.transport = 'tcp';
        details.truncatedRetry = true;
        reply = await exchangeTcp(exchange);
      }
    } catch (error) {
      if (!(error instanceof ProbeError)) throw error;
      return { status: 'fail', phases: clock.finish(), peers, error: error.runError, details };
    }
    const phases = clock.finish();
    const { response } = reply;
    const records = response.answers ?? [];
    const answers = records.filter((record) => record.type === settings.recordType).map(recordText);
    Object.assign(details, {
      rcode: response.rcode,
      answers,
      flags: { aa: response.flag_aa, tc: response.flag_tc, rd: response.flag_rd, ra: response.flag_ra },
      answerSection: records.map(recordLine),
      responseBytes: reply.bytes,
    });
    const assertions = evaluateDnsExpectations(settings.expect, {
      recordType: settings.recordType,
      question,
      rcode: response.rcode,
      answers,
      totalMs: phases.total,
    });
    const failed = assertions.find((result) => !result.ok && !result.degraded);
    if (failed) {
      const code =
        failed.name === 'rcode'
          ? 'DNS_RCODE'
          : failed.name.startsWith('response time')
            ? 'SLOW_RESPONSE'
            : 'ASSERTION';
      const error = errorOf(code, describeDnsFailure(failed, question));
      return { status: 'fail', phases, peers, error, assertions, details };
    }
    const degraded = assertions.some((result) => result.degraded);
    return { status: degraded ? 'degraded' : 'pass', phases, peers, assertions, details };
  },
};
