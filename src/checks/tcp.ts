import { z } from 'zod';
import { evaluateCertificate, observeTlsSession } from '../assertions/certificate-checks.ts';
import { caFile, expected, strictObject } from '../config/zod-helpers.ts';
import { checkBaseShape } from './check-base.ts';
import { PhaseClock } from './phase-clock.ts';
import type { Probe } from './probe.ts';
import { hostAddress, ipVersion, portNumber } from './remote-endpoint.ts';
import type { AssertionResult, Peer, ProbeOutcome, RunError } from './run-result.ts';
import { DialogueFailure, quoteLine, readTrustedCas, SocketDialogue } from './socket-dialogue.ts';

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
  /**
   * Text to send, followed by the check's `lineEnding`. May embed secrets
   * (`AUTH PLAIN ${env:SMTP_AUTH}`): they are resolved at run time and never written to
   * results (details keep this text with the reference, not the value).
   */
  send: z.string().optional(),
  /** Regular expression (see `banner`) the next line received must match. */
  expect: lineRegex().optional(),
}).refine((step) => step.send !== undefined || step.expect !== undefined, {
  error: 'a step needs "send", "expect" or both',
});

export const tcpCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('tcp'),
  /** Host name or IP address to connect to. A name is looked up first (the dns phase); an IP literal is dialled directly. Required. */
  host: hostAddress(),
  /** TCP port to connect to. Required. */
  port: portNumber(),
  /** Address family when `host` is a name: `any` (default), `4` or `6`. */
  ipVersion: ipVersion(),
  /**
   * Speak TLS right after connecting (implicit TLS: smtps, imaps, ldaps, a TLS-terminating
   * load balancer). `tls: {}` takes the defaults. Absent (default): plain TCP.
   */
  tls: strictObject({
    /** SNI and verification name when it differs from `host`; default `host`. */
    serverName: z.string().min(1).optional(),
    /** Verify the chain, validity dates and host name; a failure fails the run with class `tls`. Default true. */
    verify: z.boolean().default(true),
    /** PEM file of trusted CAs, relative to the config file; replaces the system CAs. Default: system CAs. */
    ca: caFile().optional(),
  }).optional(),
  /**
   * Regular expression the first line the server sends must match, e.g. `^SSH-2\.0` or
   * `^220 `. Absent (default): no banner is awaited (the server speaks first only if a step
   * expects it).
   */
  banner: lineRegex().optional(),
  /**
   * Steps run in order after the banner: each sends its text (if any), then reads the next
   * line (CRLF or LF terminated) and matches it against its `expect` (if any). Default none.
   */
  steps: z.array(dialogueStep).default([]),
  /** Appended to every `send`: `crlf` (default; SMTP, POP3, IMAP, FTP, Redis), `lf`, or `none`. */
  lineEnding: z.enum(['crlf', 'lf', 'none']).default('crlf'),
});
export type TcpCheck = z.output<typeof tcpCheckSchema>;

/**
 * Connects (dns → connect), optionally speaks TLS (tls), reads and matches the banner
 * (banner), then runs the send/expect steps (dialogue). Each phase is timed; a failing
 * server is a `fail` result whose error names the phase and what was awaited.
 */
export const tcpProbe: Probe<TcpCheck> = {
  async run(check, context) {
    const clock = new PhaseClock();
    const peers: Peer[] = [];
    const assertions: AssertionResult[] = [];
    const details: Record<string, unknown> = { host: check.host, port: check.port };
    const finish = (error?: RunError): ProbeOutcome => ({
      status: error ? 'fail' : 'pass',
      phases: clock.finish(),
      peers,
      ...(error ? { error } : {}),
      ...(assertions.length > 0 ? { assertions } : {}),
      details,
    });
    // Secrets and the CA file first: a missing one must not cost the target a connection.
    const lineEnding = LINE_ENDINGS[check.lineEnding];
    const sends = check.steps.map((step) =>
      step.send === undefined ? undefined : `${context.secrets.interpolate(step.send)}${lineEnding}`,
    );
    const cas = await readTrustedCas(check.tls?.ca, context.configDir, 'tls.ca');
    if ('class' in cas) return { status: 'error', phases: clock.finish(), peers, error: cas, details };
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
    const mismatch = (name: string, result: AssertionResult, phase: string): RunError => ({
      class: 'assertion',
      phase,
      message: `${name}: expected ${result.expected}, got ${quoteLine(String(result.actual))}`,
    });

    let dialogue: SocketDialogue | undefined;
    try {
      dialogue = await SocketDialogue.open({
        host: check.host,
        port: check.port,
        family: check.ipVersion === 'any' ? undefined : check.ipVersion,
        signal: context.signal,
        timeoutMs: context.timeoutMs,
        clock,
        peers,
      });
      details.address = dialogue.target;

      if (check.tls) {
        const serverName = check.tls.serverName ?? check.host;
        const socket = await dialogue.startTls({ servername: serverName, ca: cas.pem });
        const observation = observeTlsSession(socket);
        details.tls = observation.facts;
        if (check.tls.verify) {
          const verdict = evaluateCertificate(observation, {
            verifyChain: true,
            trustedBy: cas.trustedBy,
            hostname: serverName,
          });
          assertions.push(...verdict.assertions);
          if (verdict.error) return finish(verdict.error);
        }
      }

      if (check.banner !== undefined) {
        clock.enter('banner');
        const line = await dialogue.readLine('the banner');
        details.banner = shown(line);
        const result = matchLine('banner', check.banner, line);
        assertions.push(result);
        if (!result.ok) return finish(mismatch('banner', result, 'banner'));
      }

      if (check.steps.length > 0) {
        clock.enter('dialogue');
        const transcript: Array<Record<string, unknown>> = [];
        details.steps = transcript;
        for (const [index, step] of check.steps.entries()) {
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
          if (!result.ok) return finish(mismatch(name, result, 'dialogue'));
        }
      }
      return finish();
    } catch (error) {
      if (error instanceof DialogueFailure) return finish(error.runError);
      throw error;
    } finally {
      dialogue?.close();
    }
  },
};
