import type { RunError } from '../../results/run-result.ts';

/** How an exchange reports a failing server: carries the classified error to the probe. */
export class DnsQueryFailure extends Error {
  constructor(readonly runError: RunError) {
    super(runError.message);
  }
}
