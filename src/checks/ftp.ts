import { z } from 'zod';
import { loginBlock } from '../config/auth-settings.ts';
import { expected, strictObject } from '../config/zod-helpers.ts';
import { checkSchemaOf } from './check-base.ts';
import { FtpSession } from './ftp/ftp-session.ts';
import { hostTlsBlock } from './host-tls-block.ts';
import type { Probe } from './probe.ts';
import { serverShape } from './remote-endpoint.ts';

const remotePath = () =>
  z
    .string({ error: expected('a path on the server such as "/pub/status.txt"') })
    .min(1)
    .refine((path) => !/[\r\n]/.test(path), { error: 'must not contain a line break' });

/**
 * An FTP session as a user has it, through basic-ftp: connect and banner, TLS (FTPS),
 * login, then optionally a directory listing and a download checked by size, SHA-256 and
 * content. Transfers use passive mode only (EPSV, then PASV): basic-ftp has no active
 * mode, and passive is what works through NAT and firewalls.
 *
 * Error classes: a refusal of what the check asked for (login, LIST, RETR) and a file
 * that is not as expected are `assertion`, because the server works but not as the
 * operator expects; a greeting or session setup the protocol does not allow is
 * `protocol`; AUTH TLS refused and every certificate problem are `tls`.
 */
/** The `ftp:` block: the server, whether it is FTPS, and what to list and download. */
export const ftpSettingsSchema = strictObject(
  {
    ...serverShape(
      'The FTP server',
      'Control connection port. Default 21, or 990 when `secure` is `implicit`.',
    ),
    secure: z
      .literal([false, 'explicit', 'implicit'], {
        error: (issue) => `expected false, "explicit" or "implicit", got ${JSON.stringify(issue.input)}`,
      })
      .default(false)
      .describe(
        'Whether FTPS is spoken: `explicit` (AUTH TLS on the control connection, then protected data connections), `implicit` (TLS from the first byte, port 990), or false (plain FTP, password in clear). How TLS is spoken is the `tls` block. Default false.',
      ),
    list: z
      .preprocess(
        (value) => (typeof value === 'string' ? { path: value } : value),
        strictObject({
          path: remotePath().describe('The folder to list. Required.'),
          expect: z
            .array(z.string().min(1))
            .default([])
            .describe('Names (not paths) that must be in the listing. Default none.'),
        }),
      )
      .optional()
      .describe(
        'A folder to LIST after login: `"/pub"`, or `{ path: "/pub", expect: ["status.txt"] }` to also require those names in it. Default: no listing.',
      ),
    retrieve: strictObject({
      path: remotePath().describe('The file to download. Required.'),
      size: z
        .number({ error: expected('a size in bytes') })
        .int()
        .min(0)
        .optional()
        .describe('Exact size in bytes it must have. Default not checked.'),
      sha256: z
        .string({ error: expected('a SHA-256 as 64 hex digits') })
        .regex(/^[0-9a-fA-F]{64}$/, {
          error: (issue) => `expected a SHA-256 as 64 hex digits, got ${JSON.stringify(issue.input)}`,
        })
        .transform((hex) => hex.toLowerCase())
        .optional()
        .describe('Its SHA-256 as 64 hex digits. Default not checked.'),
      contains: z
        .string()
        .min(1)
        .optional()
        .describe('Text its first 1 MiB must contain (compared as UTF-8 bytes). Default not checked.'),
    })
      .optional()
      .describe(
        'A file to download (RETR) and check; the content is streamed into a hash and at most its first 1 MiB is kept for `contains`. Default: no download.',
      ),
  },
  { what: 'the ftp settings, such as { host: "files.shop.example" }' },
).describe('The server, whether it is FTPS, and what to list and download.');

export const ftpCheckSchema = checkSchemaOf('ftp', {
  settings: ftpSettingsSchema,
  tlsUse: { speaks: (ftp) => ftp.secure !== false, because: 'ftp.secure is false', fix: 'set ftp.secure' },
  tls: hostTlsBlock('ftp', 'How FTPS is spoken when `ftp.secure` is set'),
  auth: loginBlock(
    'ftp',
    'Login `{ username, password }`. Default anonymous (basic-ftp then sends the password "guest", as anonymous FTP expects).',
    { passwordOptional: true },
  ),
});

export type FtpCheck = z.output<typeof ftpCheckSchema>;

export const ftpProbe: Probe<FtpCheck> = {
  run(check, context) {
    return new FtpSession(check, context).run();
  },
};
