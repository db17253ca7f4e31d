/**
 * The result of one run of one check at one location: the unit that crosses every
 * boundary (worker → Redis → API → alert). Plain JSON so it can be stored as is.
 */

/** pass: all assertions held; degraded: held but slower than the degraded limit; fail: the target misbehaved; error: pathwatch itself could not run the check. */
export type RunStatus = 'pass' | 'degraded' | 'fail' | 'error';

import type { ErrorCode } from './error-codes.ts';

/** Why a run failed, in classes an operator can act on without reading the message. */
export type ErrorClass =
  | 'auth'
  | 'dns'
  | 'refused'
  | 'unreachable'
  | 'connect_timeout'
  | 'tls'
  | 'protocol'
  | 'assertion'
  | 'timeout'
  | 'reset'
  | 'config'
  | 'internal';

/** Classes that mean "the network or the far end did not answer as it should": these get a packet-capture slice. */
export const NETWORK_ERROR_CLASSES: readonly ErrorClass[] = [
  'dns',
  'refused',
  'unreachable',
  'connect_timeout',
  'tls',
  'reset',
  'timeout',
];

export interface RunError {
  class: ErrorClass;
  /**
   * The stable code (`TLS_EXPIRED`, `AUTH_REJECTED`, …; ERROR_CODES in error-codes.ts, listed
   * in README with what to do): one per thing that can go wrong, finer than the class. Every
   * error pathwatch makes sets it (errorOf); absent only on runs stored before codes existed.
   */
  code?: ErrorCode;
  /** One line a person can act on: `connect to 127.0.0.1:4601 refused`. */
  message: string;
  /** The phase that was running when it failed (dns, connect, tls, firstByte, download, …). */
  phase?: string;
}

/** Milliseconds spent in each phase; absent phases did not happen. */
export interface PhaseTimings {
  dns?: number;
  connect?: number;
  tls?: number;
  firstByte?: number;
  download?: number;
  total: number;
  [phase: string]: number | undefined;
}

/** A remote endpoint the run talked to, so a packet capture can be cut to its flows. */
export interface Peer {
  ip: string;
  port: number;
}

export interface AssertionResult {
  /** What was asserted, e.g. `status in 200-299`. */
  name: string;
  ok: boolean;
  expected?: unknown;
  actual?: unknown;
  /** Degraded rather than failed: the soft limit was crossed, not the hard one. */
  degraded?: boolean;
}

export interface ArtifactRef {
  kind: 'trace' | 'screenshot' | 'har' | 'pcap' | 'analysis' | 'log' | string;
  /** Key in the ArtifactStore. */
  key: string;
  bytes?: number;
  contentType?: string;
}

export interface StepResult {
  name: string;
  startedAt: number;
  durationMs: number;
  status: 'pass' | 'fail' | 'skipped';
  error?: string;
}

/** What a probe returns; the caller adds identity and timing. */
export interface ProbeOutcome {
  status: RunStatus;
  phases: PhaseTimings;
  peers: Peer[];
  error?: RunError;
  assertions?: AssertionResult[];
  /** Kind-specific facts worth keeping (HTTP status, DNS answers, certificate expiry…). */
  details?: Record<string, unknown>;
  steps?: StepResult[];
  artifacts?: ArtifactRef[];
}

export interface RunResult extends ProbeOutcome {
  runId: string;
  checkId: string;
  kind: string;
  location: string;
  /** When the scheduler meant the run to start (epoch ms); lag = startedAt − scheduledAt. */
  scheduledAt?: number;
  startedAt: number;
  finishedAt: number;
  /** 1 for the first attempt; confirmation retries count up. */
  attempt: number;
  /** The worker host that ran it (where its packets were captured). */
  host?: string;
  /**
   * This end's ports of the run's connections, where the probe knew them: a capture slice
   * holds other runs' flows to the same peers, and these tell the run's own flows apart.
   */
  localPorts?: number[];
  /** The check's timeout: a capture reads a SYN-ACK later than this as a slow handshake. */
  timeoutMs?: number;
  /** The check's interval: runs at other locations with the same ⌊scheduledAt / interval⌋ fill the same slot. */
  intervalMs?: number;
}
