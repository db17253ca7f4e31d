import type { TLSSocket } from 'node:tls';
import {
  type CertificateFacts,
  judgeExpiry,
  observeTlsSession,
} from '../../assertions/certificate-checks.ts';
import type { AuthSettings } from '../../config/auth-settings.ts';
import { DEFAULT_TLS_SETTINGS, type TlsSettings } from '../../config/tls-settings.ts';
import type { CodedRunError } from '../../results/error-codes.ts';
import type { AssertionResult, Peer, ProbeOutcome } from '../../results/run-result.ts';
import {
  summarizeTls,
  type TlsConnection,
  tlsConnection,
  tlsFileErrorOutcome,
} from '../certificate-options.ts';
import { ProbeError } from '../errors/probe-error.ts';
import { TlsFileError } from '../errors/tls-file-error.ts';
import { type Awaiting, timeoutError } from '../network-error.ts';
import { PhaseClock } from '../phase-clock.ts';
import type { ProbeContext } from '../probe.ts';
import type { DialOptions } from './dial-tcp.ts';

/** What a run needs before its first packet: the TLS files read and the password resolved. */
export type Prepared =
  | { tls: TlsConnection | undefined; password: string | undefined; outcome?: undefined }
  | { outcome: ProbeOutcome };

/**
 * What every run of a login-and-commands protocol (smtp, ftp) keeps the same way: phase
 * timings, peers, assertions and details; TLS files read before connecting; the server's
 * certificate noted when TLS comes up and its expiry judged once the conversation worked;
 * the outcome built from all of that.
 */
export abstract class DialogueRun {
  protected readonly clock = new PhaseClock();
  protected readonly peers: Peer[] = [];
  protected readonly assertions: AssertionResult[] = [];
  /** The server's certificate, once TLS is up: its expiry is judged when the conversation is done. */
  private certificate: CertificateFacts | undefined;
  private degraded = false;

  constructor(
    protected readonly context: ProbeContext,
    protected readonly details: Record<string, unknown>,
    private readonly tlsSettings: TlsSettings | undefined,
  ) {}

  /**
   * Reads the `tls` block's files (when TLS is used) and resolves the password: a file that
   * cannot be read is an `error` outcome, a missing secret a config error, before any packet.
   */
  protected async prepare(host: string, usesTls: boolean, auth: AuthSettings | undefined): Promise<Prepared> {
    let tls: TlsConnection | undefined;
    try {
      if (usesTls) tls = await tlsConnection(this.tlsSettings, host, this.context);
    } catch (error) {
      if (!(error instanceof TlsFileError)) throw error;
      return { outcome: tlsFileErrorOutcome(error, this.details) };
    }
    const password = auth?.password ? this.context.secrets.interpolate(auth.password) : undefined;
    return { tls, password };
  }

  /** Dial options for the control connection: this run's signal, deadline, clock and peers. */
  protected dialOptions(host: string, port: number): DialOptions {
    const { signal, timeoutMs, deadline } = this.context;
    return { host, port, signal, timeoutMs, deadline, clock: this.clock, peers: this.peers };
  }

  /** Keeps the TLS session's summary in the details and its certificate for `judgeCertificate`. */
  protected noteTlsSession(socket: TLSSocket, via: string): void {
    this.details.tlsSession = { via, ...summarizeTls(socket) };
    this.certificate = observeTlsSession(socket).facts.certificate;
  }

  /** The `tls` block's expiry limits, judged as for every kind, once the conversation has worked. */
  protected judgeCertificate(): void {
    if (!this.certificate) return;
    const expiry = judgeExpiry(this.certificate, this.tlsSettings ?? DEFAULT_TLS_SETTINGS);
    this.assertions.push(...expiry.assertions);
    if (expiry.error) throw new ProbeError(expiry.error);
    this.degraded = expiry.degraded;
  }

  /**
   * The run's deadline passed after connecting: the server owed its `banner` (phase
   * banner) or, later, what `later` names.
   */
  protected timedOut(target: string, banner: string, later: Awaiting): CodedRunError {
    const phase = this.clock.current;
    const awaiting: Awaiting = phase === 'banner' ? { kind: 'first', what: banner } : later;
    return timeoutError(phase, target, this.context.timeoutMs, awaiting);
  }

  /** The outcome: pass (or degraded by the certificate's expiry), or fail with `error`. */
  protected outcome(error?: CodedRunError): ProbeOutcome {
    return {
      status: error ? 'fail' : this.degraded ? 'degraded' : 'pass',
      phases: this.clock.finish(),
      peers: this.peers,
      ...(error ? { error } : {}),
      assertions: this.assertions,
      details: this.details,
    };
  }
}
