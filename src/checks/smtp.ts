import { hostname } from 'node:os';
import { z } from 'zod';
import { loginBlock } from '../config/auth-settings.ts';
import { expected, strictObject } from '../config/zod-helpers.ts';
import { checkSchemaOf } from './check-base.ts';
import { hostTlsBlock } from './host-tls-block.ts';
import type { Probe } from './probe.ts';
import { serverShape } from './remote-endpoint.ts';
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
/** The `smtp:` block: the server, how the connection is encrypted, and the optional test message. */
export const smtpSettingsSchema = strictObject(
  {
    ...serverShape(
      'The mail server',
      'TCP port. Default 25, or 465 when `tls` is `implicit` (submission is usually 587).',
    ),
    tls: z
      .enum(['starttls', 'opportunistic', 'implicit', 'none'], {
        error: (issue) =>
          `expected "starttls", "opportunistic", "implicit" or "none", got ${JSON.stringify(issue.input)}`,
      })
      .default('starttls')
      .describe(
        'Whether TLS is spoken: `starttls` requires STARTTLS in the EHLO reply (class `tls` when missing); `opportunistic` uses it when offered; `implicit` speaks TLS from the first byte (SMTPS, port 465); `none` never encrypts. How TLS is spoken is the `tls` block. Default `starttls`.',
      ),
    ehloName: z
      .string({ error: expected('a host name such as "probe.shop.example"') })
      .regex(/^([A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])$/, {
        error: (issue) =>
          `expected a host name or address literal such as "probe.shop.example" or "[10.0.0.7]", got ${JSON.stringify(issue.input)}`,
      })
      .optional()
      .describe("Name announced in EHLO/HELO. Default this machine's host name."),
    message: strictObject({
      from: mailbox().describe('Envelope and header sender. Required.'),
      to: z
        .preprocess((value) => (typeof value === 'string' ? [value] : value), z.array(mailbox()).min(1))
        .describe('One recipient or a list; every RCPT TO must be accepted (250 or 251). Required.'),
      subject: z.string().optional().describe('Subject line. Default "pathwatch test message (<check id>)".'),
      body: z
        .string()
        .optional()
        .describe('Plain-text body. Default one line naming the check and the time.'),
    })
      .optional()
      .describe(
        'Send one test message: MAIL FROM, RCPT TO for each recipient, DATA; the server must accept it. Default: no message, the dialogue ends after AUTH.',
      ),
  },
  { what: 'the smtp settings, such as { host: "mail.shop.example" }' },
).describe('The mail server, how the connection is encrypted, and the optional test message.');

export const smtpCheckSchema = checkSchemaOf('smtp', {
  settings: smtpSettingsSchema,
  tlsUse: { speaks: (smtp) => smtp.tls !== 'none', because: 'smtp.tls is "none"', fix: 'set smtp.tls' },
  tls: hostTlsBlock('smtp', 'How STARTTLS or implicit TLS is spoken'),
  auth: loginBlock(
    'smtp',
    'Log in with AUTH PLAIN (or LOGIN when only that is offered) after STARTTLS. Default no login.',
  ),
});

export type SmtpCheck = z.output<typeof smtpCheckSchema>;

export const smtpProbe: Probe<SmtpCheck> = {
  run(check, context) {
    return new SmtpDialogue(check, context, check.smtp.ehloName ?? hostname()).run();
  },
};
