import { z } from 'zod';
import { secretRef } from '../config/secret-resolver.ts';
import { expected, strictObject } from '../config/zod-helpers.ts';
import { certificateOptionsSchema } from './certificate-options.ts';
import { checkBaseShape } from './check-base.ts';
import { FtpSession } from './ftp/ftp-session.ts';
import type { Probe } from './probe.ts';
import { hostAddress, portNumber } from './remote-endpoint.ts';

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
export const ftpCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('ftp'),
  /** The FTP server: host name or IP address, no scheme or port. */
  host: hostAddress(),
  /** Control connection port; default 21, or 990 when `secure` is "implicit". */
  port: portNumber().optional(),
  /**
   * FTPS (default false: plain FTP, password in clear). "explicit": AUTH TLS on the
   * control connection, then protected (PROT P) data connections; "implicit": TLS from
   * the first byte, the legacy port-990 style.
   */
  secure: z
    .literal([false, 'explicit', 'implicit'], {
      error: (issue) => `expected false, "explicit" or "implicit", got ${JSON.stringify(issue.input)}`,
    })
    .default(false),
  /** How the server's certificate is checked when `secure` is set; default: verified against the system CAs. */
  certificate: certificateOptionsSchema.prefault({}),
  /** Login name; default "anonymous". */
  username: z
    .string({ error: expected('a user name') })
    .min(1)
    .default('anonymous'),
  /** A secret reference such as "${env:FTP_PASSWORD}"; default none (basic-ftp then sends "guest", as anonymous FTP expects). */
  password: secretRef().optional(),
  /**
   * A folder to LIST after login: `"/pub"`, or `{ path: "/pub", expect: ["status.txt"] }`
   * to also require those names in it. Default: no listing.
   */
  list: z
    .preprocess(
      (value) => (typeof value === 'string' ? { path: value } : value),
      strictObject({
        /** The folder to list. */
        path: remotePath(),
        /** Names (not paths) that must be in the listing; default none. */
        expect: z.array(z.string().min(1)).default([]),
      }),
    )
    .optional(),
  /**
   * A file to download (RETR) and check; the content is streamed into a hash, and at
   * most its first 1 MiB is kept for `contains`. Default: no download.
   */
  retrieve: strictObject({
    /** The file to download. */
    path: remotePath(),
    /** Exact size in bytes it must have; default not checked. */
    size: z
      .number({ error: expected('a size in bytes') })
      .int()
      .min(0)
      .optional(),
    /** Its SHA-256 as 64 hex digits; default not checked. */
    sha256: z
      .string({ error: expected('a SHA-256 as 64 hex digits') })
      .regex(/^[0-9a-fA-F]{64}$/, {
        error: (issue) => `expected a SHA-256 as 64 hex digits, got ${JSON.stringify(issue.input)}`,
      })
      .transform((hex) => hex.toLowerCase())
      .optional(),
    /** Text its first 1 MiB must contain (compared as UTF-8 bytes); default not checked. */
    contains: z.string().min(1).optional(),
  }).optional(),
});
export type FtpCheck = z.output<typeof ftpCheckSchema>;

export const ftpProbe: Probe<FtpCheck> = {
  run(check, context) {
    return new FtpSession(check, context).run();
  },
};
