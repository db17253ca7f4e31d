import type { z } from 'zod';
import {
  certificateExpectationsShape,
  evaluateCertificate,
  observeTlsSession,
} from '../assertions/certificate-checks.ts';
import { noAuthBlock } from '../config/auth-settings.ts';
import { refineTlsSettings, tlsSettingsShape } from '../config/tls-settings.ts';
import { strictObject } from '../config/zod-helpers.ts';
import { tlsConnection, tlsFileErrorOutcome } from './certificate-options.ts';
import { checkSchemaOf } from './check-base.ts';
import { TlsFileError } from './errors/tls-file-error.ts';
import type { Probe } from './probe.ts';
import { endpointShape, portNumber } from './remote-endpoint.ts';
import { RunRecord } from './run-record.ts';
import { talkToEndpoint } from './talk-to-endpoint.ts';

/**
 * The handshake offers everything down to TLS 1.0 (OpenSSL security level 0) so that a
 * server stuck on an old protocol is *reported* as "negotiated TLSv1.1, expected TLSv1.2"
 * rather than as an opaque "no protocols available". Safe because this probe only looks:
 * it sends no application data over the connection.
 */
const OBSERVE_MIN_VERSION = 'TLSv1';
const OBSERVE_CIPHERS = 'DEFAULT:@SECLEVEL=0';

/**
 * The `tls:` block of a `tls` check: the target, and the same TLS settings every other kind
 * takes in its `tls` block (one block, since for this kind TLS is the protocol).
 */
export const tlsTargetSchema = strictObject(
  {
    ...endpointShape(portNumber().default(443).describe('TCP port. Default 443.'), 'connect to'),
    ...tlsSettingsShape,
    ...certificateExpectationsShape,
  },
  { what: 'the tls settings, such as { host: "shop.example" }' },
)
  .superRefine(refineTlsSettings)
  .describe(
    'The endpoint and how its certificate is judged. `verify: false` still reports chain and name problems in details and applies the days, issuer and protocol limits.',
  );

export const tlsCheckSchema = checkSchemaOf('tls', {
  settings: tlsTargetSchema,
  tls: tlsTargetSchema,
  auth: noAuthBlock('tls', ''),
});
export type TlsCheck = z.output<typeof tlsCheckSchema>;

/**
 * Connects (dns → connect), completes a TLS handshake (tls) without rejecting anything,
 * then judges what it saw: chain trust, validity dates, host name, days left, issuer and
 * protocol version. An expired or mismatched certificate is reported with its details
 * (subject, issuer, dates, SANs, fingerprint, protocol, cipher), not just an error code.
 */
export const tlsProbe: Probe<TlsCheck> = {
  async run(check, context) {
    const target = check.tls;
    const serverName = target.serverName ?? target.host;
    const record = new RunRecord({ host: target.host, port: target.port, serverName });
    let tls: Awaited<ReturnType<typeof tlsConnection>>;
    try {
      // Old protocols and ciphers are let through the handshake and judged after it, so an
      // old server is named, not refused.
      tls = await tlsConnection(target, target.host, context, {
        minVersion: OBSERVE_MIN_VERSION,
        ciphers: OBSERVE_CIPHERS,
      });
    } catch (error) {
      if (error instanceof TlsFileError) return tlsFileErrorOutcome(error, record.details);
      throw error;
    }
    return talkToEndpoint(target, context, record, async (dialogue) => {
      const socket = await dialogue.startTls(tls.options);
      const observation = observeTlsSession(socket);
      Object.assign(record.details, observation.facts);
      const verdict = evaluateCertificate(observation, {
        verifyChain: target.verify,
        trustedBy: tls.trustedBy,
        hostname: target.verify ? serverName : undefined,
        failDays: target.failDays,
        warnDays: target.warnDays,
        issuer: target.issuer,
        minVersion: target.minVersion,
      });
      record.assertions.push(...verdict.assertions);
      record.degraded = verdict.status === 'degraded';
      return record.outcome(verdict.error);
    });
  },
};
