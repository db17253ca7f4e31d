import type { AssertionResult, Peer, ProbeOutcome, RunError } from '../results/run-result.ts';
import { PhaseClock } from './phase-clock.ts';

/**
 * What one socket probe run (tcp, tls) records as it goes (phase timings, the peers dialed,
 * assertions, details) and the outcome made of it, so those probes report a failure at any
 * point the same way, with everything recorded up to it.
 */
export class RunRecord {
  readonly clock = new PhaseClock();
  readonly peers: Peer[] = [];
  readonly assertions: AssertionResult[] = [];
  /** A passing run that should still be looked at (a certificate expiring soon). */
  degraded = false;

  constructor(readonly details: Record<string, unknown>) {}

  /** `fail` with `error`, else `degraded` or `pass`; `assertions` only when some were made. */
  outcome(error?: RunError): ProbeOutcome {
    return {
      status: error ? 'fail' : this.degraded ? 'degraded' : 'pass',
      phases: this.clock.finish(),
      peers: this.peers,
      ...(error ? { error } : {}),
      ...(this.assertions.length > 0 ? { assertions: this.assertions } : {}),
      details: this.details,
    };
  }
}
