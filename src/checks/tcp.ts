import { z } from 'zod';
import { evaluateCertificate, observeTlsSession } from '../assertions/certificate-checks.ts';
import { noAuthBlock } from '../config/auth-settings.ts';
import { expected, strictObject } from '../config/zod-helpers.ts';
import { errorOf } from '../results/error-codes.ts';
import type { AssertionResult, RunError } from '../results/run-result.ts';
import { tlsConnection, tlsFileErrorOutcome } from './certificate-options.ts';
import { checkSchemaOf } from './check-base.ts';
import { TlsFileError } from './errors/tls-file-error.ts';
import { hostTlsBlock } from './host-tls-block.ts';
import type { Probe } from './probe.ts';
import { endpointShape, portNumber } from './remote-endpoint.ts';
import { RunRecord } from './run-record.ts';
import { quoteLine } from './socket-dialogue.ts';
import { talkToEndpoint } from './talk-to-endpoint.ts';

/** Received lines kept in `details` are cut to this many characters. */
const DETAIL_LINE_LIMIT = 512;

const LINE_ENDINGS = { crlf: '\r\n', lf: '\n', none: '' } as const;

const SLASHED_REGEX = /^\/(.*)\/([imsu]*)$/;

/**
 * A regular expression one received line must match: a bare source such as `^SSH-2\.0`,
 * or `/source/flags` (flags i, m, s, u) for case-insensitive matches: `/^\+ok/i`.
 */
function lineRegex() {
  return z.string({ error: expected('a regular expression such as "^SSH-2\\\\.0"') }).refine(
    (text) => {
      try {
        compileLineRegex(text);
        return true;
      } catch {
        return false;
      }
    },
    { error: (issue) => `not a valid regular expression: ${JSON.stringify(issue.input)}` },
  );
}

function compileLineRegex(text: string): RegExp {
  const slashed = SLASHED_REGEX.exec(text);
  return slashed ? new RegExp(slashed[1], slashed[2]) : new RegExp(text);
}

function showRegex(text: string): string {
  return SLASHED_REGEX.test(text) ? text : `/${text}/`;
}

const dialogueStep = strictObject({
  send: z
    .string()
    .optional()
    .describe(
      'Text to send, followed by `lineEnding`. May embed secrets (`AUTH PLAIN ${env:SMTP_AUTH}`), resolved at run time and never written to results (details keep the reference).',
    ),
  expect: lineRegex()
    .optional()
    .describe('Regular expression (as for `banner`) the next line received must match.'),
}).refine((step) => step.send !== undefined || step.expect !== undefined, {
  error: 'a step needs "send", "expect" or both',
});

/** The `tcp:` block: where to connect and the line dialogue to hold there. */
export const tcpSettingsSchema = strictObject(
  {
    ...endpointShape(portNumber().describe('TCP port to connect to. Required.'), 'connect to'),
    tls: z
      .boolean()
      .default(false)
      .describe(
        'Speak TLS right after connecting (implicit TLS: smtps, imaps, ldaps, a TLS-terminating load balancer), as the `tls` block says. Default false: plain TCP.',
      ),
    banner: lineRegex()
      .optional()
      .describe(
        'Regular expression the first line the server sends must match, e.g. `^SSH-2\\.0` or `^220 ` (`/source/flags` for flags). Default: no banner is awaited.',
      ),
    steps: z
      .array(dialogueStep)
      .default([])
      .describe(
        'Steps run in order after the banner: each sends its `send` (if any), then reads the next line and matches it against its `expect` (if any). Default none.',
      ),
    lineEnding: z
      .enum(['crlf', 'lf', 'none'])
      .default('crlf')
      .describe(
        'Appended to every `send`: `crlf` (SMTP, POP3, IMAP, FTP, Redis), `lf` or `none`. Default `crlf`.',
      ),
  },
  { what: 'the tcp settings, such as { host: "10.0.0.5", port: 22 }' },
).describe('Where to connect and the line dialogue to hold there.');

export const tcpCheckSchema = checkSchemaOf('tcp', {
  settings: tcpSettingsSchema,
  tlsUse: { speaks: (tcp) => tcp.tls === true, because: 'tcp.tls is not true', fix: 'set tcp.tls: true' },
  tls: hostTlsBlock('tcp', 'How TLS is spoken when `tcp.tls` is true'),
  auth: noAuthBlock('tcp', ' (send credentials in steps, with a secret reference)'),
});

export type TcpCheck = z.output<typeof tcpCheckSchema>;

/**
 * Connects (dns → connect), optionally speaks TLS (tls), reads and matches the banner
 * (banner), then runs the send/expect steps (dialogue). Each phase is timed; a failing
 * server is a `fail` result whose error names the phase and what was awaited.
 */
export const tcpProbe: Probe<TcpCheck> = {
  async run(check, context) {
    const settings = check.tcp;
    const record = new RunRecord({ host: settings.host, port: settings.port });
    const { details, assertions } = record;
    // Secrets and the CA file first: a missing one must not cost the target a connection.
    const lineEnding = LINE_ENDINGS[settings.lineEnding];
    const sends = settings.steps.map((step) =>
      step.send === undefined ? undefined : `${context.secrets.interpolate(step.send)}${lineEnding}`,
    );
    let tls: Awaited<ReturnType<typeof tlsConnection>> | undefined;
    try {
      if (settings.tls) tls = await tlsConnection(check.tls, settings.host, context);
    } catch (error) {
      if (error instanceof TlsFileError) return tlsFileErrorOutcome(error, details);
      throw error;
    }
    const shown = (line: string) => {
      const masked = context.secrets.mask(line);
      return masked.length > DETAIL_LINE_LIMIT ? `${masked.slice(0, DETAIL_LINE_LIMIT - 3)}...` : masked;
    };
    const matchLine = (name: string, source: string, line: string): AssertionResult => ({
      name: `${name} matches ${showRegex(source)}`,
      ok: compileLineRegex(source).test(line),
      expected: showRegex(source),
      actual: shown(line),
    });
    const mismatch = (name: string, result: AssertionResult, phase: string): RunError =>
      errorOf(
        'ASSERTION',
        `${name}: expected ${result.expected}, got ${quoteLine(String(result.actual))}`,
        phase,
      );

    return talkToEndpoint(settings, context, record, async (dialogue) => {
      let certificateFailure: RunError | undefined;
      if (tls) {
        const socket = await dialogue.startTls(tls.options);
        const observation = observeTlsSession(socket);
        details.tls = observation.facts;
        const verdict = evaluateCertificate(observation, {
          verifyChain: tls.settings.verify,
          trustedBy: tls.trustedBy,
          hostname: tls.settings.verify ? tls.identity : undefined,
          failDays: tls.settings.failDays,
          warnDays: tls.settings.warnDays,
        });
        assertions.push(...verdict.assertions);
        // A certificate a verifying client refuses ends the run here; one that merely
        // expires too soon (class assertion) is judged once the dialogue has been held.
        if (verdict.error?.class === 'tls') return record.outcome(verdict.error);
        certificateFailure = verdict.error;
        record.degraded = verdict.status === 'degraded';
      }

      if (settings.banner !== undefined) {
        record.clock.enter('banner');
        const line = await dialogue.readLine('the banner');
        details.banner = shown(line);
        const result = matchLine('banner', settings.banner, line);
        assertions.push(result);
        if (!result.ok) return record.outcome(mismatch('banner', result, 'banner'));
      }

      if (settings.steps.length > 0) {
        record.clock.enter('dialogue');
        const transcript: Array<Record<string, unknown>> = [];
        details.steps = transcript;
        for (const [index, step] of settings.steps.entries()) {
          const name = `step ${index + 1}`;
          const entry: Record<string, unknown> = { step: index + 1 };
          transcript.push(entry);
          const send = sends[index];
          if (send !== undefined) {
            entry.send = step.send; // the text as configured: secret references, not their values
            dialogue.send(send);
          }
          if (step.expect === undefined) continue;
          entry.expect = showRegex(step.expect);
          const line = await dialogue.readLine(
            send === undefined ? `the line for ${name}` : `the reply to ${name}`,
          );
          entry.received = shown(line);
          const result = matchLine(name, step.expect, line);
          assertions.push(result);
          if (!result.ok) return record.outcome(mismatch(name, result, 'dialogue'));
        }
      }
      return record.outcome(certificateFailure);
    });
  },
};
