import { z } from 'zod';
import { TLS_VERSIONS } from '../assertions/certificate-checks.ts';
import { secretRefsIn } from './secret-resolver.ts';
import { pemFile, strictObject } from './zod-helpers.ts';

/** What `ca` does to the trust store; no default, because either choice silently changes what is trusted. */
export const CA_ROOTS = ['add', 'replace'] as const;

/**
 * The private key: a PEM file relative to the config file, or a secret reference whose
 * value is the PEM text (`${file:CLIENT_KEY}`), so a key can live with the other secrets.
 */
function privateKey() {
  const file = pemFile('key');
  return z.string().superRefine((value, ctx) => {
    if (secretRefsIn(value).length > 0) return; // resolved (and checked for being set) as a secret
    const parsed = file.safeParse(value);
    if (!parsed.success)
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
  });
}

/**
 * The fields of the one `tls` block every kind that speaks TLS takes (http, tcp, tls, smtp,
 * ftp, crawl). Whether a check speaks TLS is its protocol block's business (an https URL,
 * `tcp.tls: true`, `smtp.tls`, `ftp.secure`); this block says how.
 */
export const tlsSettingsShape = {
  ca: pemFile('ca')
    .optional()
    .describe(
      'PEM file of CA certificates, relative to the config file; `caRoots` says whether it is added to the system CAs or replaces them. Default: the system CAs only.',
    ),
  caRoots: z
    .enum(CA_ROOTS, {
      error: (issue) => `expected "add" or "replace", got ${JSON.stringify(issue.input)}`,
    })
    .optional()
    .describe(
      'Required with `ca`: `add` trusts the system CAs and `ca` (an internal CA beside public sites), `replace` trusts only `ca` (pinning to a private PKI).',
    ),
  serverName: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Name sent as SNI and checked against the certificate; default the host the check connects to (no SNI for an IP address).',
    ),
  verify: z
    .boolean()
    .default(true)
    .describe(
      'Verify the chain and that the certificate names the host; a failure fails the run with class `tls`. Default true. false still encrypts, records the certificate and applies the days limits.',
    ),
  cert: pemFile('certificate')
    .optional()
    .describe('Client certificate (PEM file) for servers that require one; needs `key`. Default none.'),
  key: privateKey()
    .optional()
    .describe(
      'Private key of `cert`: a PEM file relative to the config file, or a secret reference to the PEM text. Needs `cert`. Default none.',
    ),
  minVersion: z
    .enum(TLS_VERSIONS, {
      error: (issue) => `expected one of ${TLS_VERSIONS.join(', ')}, got ${JSON.stringify(issue.input)}`,
    })
    .default('TLSv1.2')
    .describe(
      'Oldest protocol accepted: `TLSv1`, `TLSv1.1`, `TLSv1.2` or `TLSv1.3`. Default `TLSv1.2`. A `tls` check still completes the handshake and fails with class `assertion`, naming the version offered.',
    ),
  warnDays: z
    .number({ error: 'expected a whole number of days' })
    .int()
    .min(0)
    .default(14)
    .describe(
      'Fewer whole days than this before the certificate expires makes the run `degraded`. Default 14.',
    ),
  failDays: z
    .number({ error: 'expected a whole number of days' })
    .int()
    .min(0)
    .default(7)
    .describe(
      'Fewer whole days than this before the certificate expires fails the run with class `assertion` (it still works today). Default 7.',
    ),
};

/** The pairing rules of the block: `ca` needs an explicit `caRoots`, `cert` and `key` go together. */
export function refineTlsSettings(
  settings: { ca?: string; caRoots?: string; cert?: string; key?: string },
  ctx: z.RefinementCtx,
): void {
  if (settings.ca !== undefined && settings.caRoots === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['caRoots'],
      message: 'required with ca: "add" (trust the system CAs and ca) or "replace" (trust only ca)',
    });
  if (settings.ca === undefined && settings.caRoots !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['caRoots'],
      message: 'caRoots says what ca does: set ca or remove caRoots',
    });
  if (settings.cert !== undefined && settings.key === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['key'],
      message: "required with cert: the client certificate's private key",
    });
  if (settings.key !== undefined && settings.cert === undefined)
    ctx.addIssue({ code: 'custom', path: ['cert'], message: 'required with key: the client certificate' });
}

export const tlsSettingsSchema = strictObject(tlsSettingsShape)
  .superRefine(refineTlsSettings)
  .describe('How TLS is spoken: trusted CAs, server name, verification, client certificate, expiry limits.');
export type TlsSettings = z.output<typeof tlsSettingsSchema>;

/** The settings in force when a check speaks TLS without a `tls` block. */
export const DEFAULT_TLS_SETTINGS: TlsSettings = tlsSettingsSchema.parse({});

/**
 * The `tls` key of a kind that never speaks TLS: present at all, it is a mistake worth a
 * line of its own rather than a generic "unknown key".
 */
export function noTlsBlock(kind: string) {
  return z
    .unknown()
    .superRefine((_value, ctx) =>
      ctx.addIssue({ code: 'custom', message: `a ${kind} check never speaks TLS: remove this block` }),
    )
    .optional()
    .describe(`Not allowed: a ${kind} check never speaks TLS.`);
}
