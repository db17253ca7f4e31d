import type { z } from 'zod';
import { noAuthBlock } from '../config/auth-settings.ts';
import { noTlsBlock } from '../config/tls-settings.ts';
import { checkSchemaOf } from './check-base.ts';

/**
 * The schema of a kind that neither speaks TLS nor logs in (dns, ping): its `tls` and `auth`
 * blocks are refused, saying so. `instead` tells where credentials go when the protocol
 * carries them some other way (` (send credentials in the datagram, …)`).
 */
export function checkSchemaWithoutTlsOrAuth<const Kind extends string, Settings extends z.ZodType>(
  kind: Kind,
  settings: Settings,
  instead = '',
) {
  return checkSchemaOf(kind, { settings, tls: noTlsBlock(kind), auth: noAuthBlock(kind, instead) });
}
