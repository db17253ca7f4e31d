import { ERROR_CODES, type ErrorCode } from '../results/error-codes.ts';
import type { ErrorClass, RunStatus } from '../results/run-result.ts';

/** Why the run ended early (deadline, cancel, crash, a step's timeout), before the body's own error is looked at. */
export class JourneyInterrupt extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: RunStatus,
    message: string,
  ) {
    super(message);
  }

  get errorClass(): ErrorClass {
    return ERROR_CODES[this.code].class;
  }
}
