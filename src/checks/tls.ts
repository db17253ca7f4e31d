import { z } from 'zod';
import {
  certificateExpectationsShape,
  evaluateCertificate,
  observeTlsSession,
} from '../assertions/certificate-checks.ts';
import { caFile, strictObject } from '../config/zod-helpers.ts';
import { checkBaseShape } from './check-base.ts';
import { PhaseClock } from './phase-clock.ts';
import type { Probe } from './probe.ts';
import { hostAddress, ipVersion, portNumber } from './remote-endpoint.ts';
import type { Peer, RunError } from './run-result.ts';
import { DialogueFailure, readTrustedCas, SocketDialogue } from './socket-dialogue.ts';

/**
 * The handshake offers everything down to TLS 1.0 (OpenSSL security level 0) so that a
 * server stuck on an old protocol is *reported* as "negotiated TLSv1.1, expected TLSv1.2"
 * rather than as an opaque "no protocols available". Safe because this probe only looks:
 * it sends no application data over the connection.
 */
const OBSERVE_MIN_VERSION = 'TLSv1';
const OBSERVE_CIPHERS = 'DEFAULT:@SECLEVEL=0';

export const tlsCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('tls'),
  /** Host name or IP address to connect to. A name is looked up first (the dns phase). Required. */
  host: hostAddress(),
  /** TCP port; default 443. */
  port: portNumber().default(443),
  /**
   * Name sent in SNI and checked against the certificate; default `host`. Set it when
   * dialling an IP address (one node behind a load balancer) for a named site.
   */
  serverName: z.string().min(1).optional(),
  /** Address family when `host` is a name: `any` (default), `4` or `6`. */
  ipVersion: ipVersion(),
  /**
   * Judge the chain (trusted CA, validity dates) and the host name; failures fail the run
   * with class `tls`. Default true. False still reports them in details and applies the
   * days, issuer and protocol limits: for internal endpoints with no trustable chain.
   */
  verify: z.boolean().default(true),
  /** PEM file of trusted CAs, relative to the config file; replaces the system CAs. Default: system CAs. */
  ca: caFile().optional(),
  ...certificateExpectationsShape,
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
    const clock = new PhaseClock();
    const peers: Peer[] = [];
    const serverName = check.serverName ?? check.host;
    const details: Record<string, unknown> = { host: check.host, port: check.port, serverName };
    const cas = await readTrustedCas(check.ca, context.configDir, 'ca');
    if ('class' in cas) return { status: 'error', phases: clock.finish(), peers, error: cas, details };
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
      const socket = await dialogue.startTls({
        servername: serverName,
        ca: cas.pem,
        minVersion: OBSERVE_MIN_VERSION,
        ciphers: OBSERVE_CIPHERS,
      });
      const observation = observeTlsSession(socket);
      const phases = clock.finish();
      Object.assign(details, observation.facts);
      const verdict = evaluateCertificate(observation, {
        verifyChain: check.verify,
        trustedBy: cas.trustedBy,
        hostname: check.verify ? serverName : undefined,
        failDays: check.failDays,
        warnDays: check.warnDays,
        issuer: check.issuer,
        minVersion: check.minVersion,
      });
      return {
        status: verdict.status,
        phases,
        peers,
        assertions: verdict.assertions,
        details,
        ...(verdict.error ? { error: verdict.error } : {}),
      };
    } catch (error) {
      if (!(error instanceof DialogueFailure)) throw error;
      const runError: RunError = error.runError;
      return { status: 'fail', phases: clock.finish(), peers, error: runError, details };
    } finally {
      dialogue?.close();
    }
  },
};
