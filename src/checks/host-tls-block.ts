import { tlsSettingsSchema } from '../config/tls-settings.ts';

/**
 * The optional `tls` block of a kind that speaks TLS to its `<kind>.host` (tcp, smtp, ftp):
 * `how` says when and how it is spoken; what an absent block means is said here once.
 */
export function hostTlsBlock(kind: string, how: string) {
  return tlsSettingsSchema
    .optional()
    .describe(`${how}. Default: system CAs, verified, host name \`${kind}.host\`.`);
}
