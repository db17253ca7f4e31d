import { hostname } from 'node:os';
import { z } from 'zod';
import { secretRef } from '../config/secret-resolver.ts';
import { expected, strictObject } from '../config/zod-helpers.ts';
import { certificateOptionsSchema } from './certificate-options.ts';
import { checkBaseShape } from './check-base.ts';
import type { Probe } from './probe.ts';
import { hostAddress, portNumber } from './remote-endpoint.ts';
import { mailbox } from './smtp/mailbox.ts';
import { SmtpDialogue } from './smtp/smtp-dialogue.ts';

/**
 * An SMTP conversation as a sending client has it: banner, EHLO, STARTTLS, AUTH, and
 * optionally one test message, then QUIT. Every reply code is checked against RFC 5321.
 *
 * Error classes: a reply to the fixed part of the dialogue (banner, EHLO, STARTTLS, QUIT)
 * that is not what the RFC prescribes, or text that is not SMTP at all, is `protocol`;
 * a refusal of what the check asked for (AUTH, MAIL FROM, RCPT TO, DATA, the message) is
 * `assertion`, because that is the operator's expectation failing on a server that works;
 * STARTTLS required but not offered, and every certificate problem, is `tls`.
 */
export const smtpCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('smtp'),
  /** The mail server: host name or IP address, no scheme or port. */
  host: hostAddress(),
  /** TCP port; default 25, or 465 when `tls` is "implicit" (submission is usually 587). */
  port: portNumber().optional(),
  /**
   * How the connection is encrypted (default "starttls"):
   * "starttls" requires STARTTLS in the EHLO reply and fails with class tls when it is
   * missing (a server or middlebox that drops it sends mail in clear);
   * "opportunistic" uses STARTTLS when offered and carries on in clear when not;
   * "implicit" speaks TLS from the first byte (SMTPS, port 465);
   * "none" never encrypts (AUTH then sends the password in clear).
   */
  tls: z
    .enum(['starttls', 'opportunistic', 'implicit', 'none'], {
      error: (issue) =>
        `expected "starttls", "opportunistic", "implicit" or "none", got ${JSON.stringify(issue.input)}`,
    })
    .default('starttls'),
  /** How the server's certificate is checked for STARTTLS and implicit TLS; default: verified against the system CAs. */
  certificate: certificateOptionsSchema.prefault({}),
  /** Name announced in EHLO/HELO; default this machine's host name. */
  ehloName: z
    .string({ error: expected('a host name such as "probe.shop.example"') })
    .regex(/^([A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])$/, {
      error: (issue) =>
        `expected a host name or address literal such as "probe.shop.example" or "[10.0.0.7]", got ${JSON.stringify(issue.input)}`,
    })
    .optional(),
  /** Log in with AUTH PLAIN (or LOGIN when only that is offered) after STARTTLS; default no login. */
  auth: strictObject({
    /** The account name; shown in messages and results. */
    username: z.string({ error: expected('a user name') }).min(1),
    /** A secret reference such as "${env:SMTP_PASSWORD}"; never shown anywhere. */
    password: secretRef(),
  }).optional(),
  /**
   * Send one test message: MAIL FROM, RCPT TO for each recipient, DATA; the server must
   * accept it (250 after the final "."). Default: no message, the dialogue ends after AUTH.
   */
  message: strictObject({
    /** Envelope and header sender. */
    from: mailbox(),
    /** One recipient or a list; every RCPT TO must be accepted (250 or 251). */
    to: z.preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(mailbox()).min(1)),
    /** Subject line; default "pathwatch test message (<check id>)". */
    subject: z.string().optional(),
    /** Plain-text body; default one line naming the check and the time. */
    body: z.string().optional(),
  }).optional(),
});
export type SmtpCheck = z.output<typeof smtpCheckSchema>;

export const smtpProbe: Probe<SmtpCheck> = {
  run(check, context) {
    return new SmtpDialogue(check, context, check.ehloName ?? hostname()).run();
  },
};
