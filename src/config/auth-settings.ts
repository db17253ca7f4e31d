import { z } from 'zod';
import { secretRef } from './secret-resolver.ts';
import { expected, strictObject } from './zod-helpers.ts';

export interface AuthSettingsRules {
  /** The kind, for messages. */
  kind: string;
  /** `{ bearer }` is allowed (http only). */
  bearer: boolean;
  /** A login may leave out the password (anonymous FTP accounts). */
  passwordOptional?: boolean;
}

/**
 * The one `auth` block: `{ username, password }` (http Basic, smtp AUTH, ftp login) or
 * `{ bearer }` (http only). Secrets only by reference.
 */
export function authSettings(rules: AuthSettingsRules) {
  return strictObject({
    username: z
      .string({ error: expected('a user name') })
      .min(1)
      .optional()
      .describe('Account name; shown in messages and results.'),
    password: secretRef()
      .optional()
      .describe('Secret reference such as "${env:SHOP_PASSWORD}"; never shown anywhere.'),
    bearer: secretRef()
      .optional()
      .describe('Bearer token as a secret reference, sent as `Authorization: Bearer …` (http only).'),
  })
    .superRefine((auth, ctx) => {
      if (auth.bearer !== undefined) {
        if (!rules.bearer)
          ctx.addIssue({
            code: 'custom',
            path: ['bearer'],
            message: `${rules.kind} checks log in with username and password, not a bearer token`,
          });
        else if (auth.username !== undefined || auth.password !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['bearer'],
            message: 'expected either { bearer } or { username, password }, not both',
          });
        return;
      }
      if (auth.username === undefined)
        ctx.addIssue({ code: 'custom', path: ['username'], message: 'required, expected a user name' });
      if (auth.password === undefined && !rules.passwordOptional)
        ctx.addIssue({
          code: 'custom',
          path: ['password'],
          message: 'required, expected a secret reference such as "${env:PASSWORD}"',
        });
    })
    .describe(
      rules.bearer
        ? 'Credentials: `{ username, password }` (Basic) or `{ bearer }`, secrets by reference. Default none.'
        : 'Login: `{ username, password }`, the password by reference. Default none.',
    );
}
export type AuthSettings = z.output<ReturnType<typeof authSettings>>;

/**
 * The optional `auth` key of a kind that logs in with a user name and password only (smtp,
 * ftp): `how` says how the login is used and what no block means.
 */
export function loginBlock(kind: string, how: string, options: { passwordOptional?: boolean } = {}) {
  return authSettings({ kind, bearer: false, ...options })
    .optional()
    .describe(how);
}

/** The `auth` key of a kind that never logs in. */
export function noAuthBlock(kind: string, instead: string) {
  return z
    .unknown()
    .superRefine((_value, ctx) =>
      ctx.addIssue({
        code: 'custom',
        message: `a ${kind} check does not log in: remove this block${instead}`,
      }),
    )
    .optional()
    .describe(`Not allowed: a ${kind} check does not log in.`);
}
