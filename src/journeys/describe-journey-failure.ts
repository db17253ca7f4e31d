import type { ErrorCode } from '../results/error-codes.ts';
import type { RunStatus } from '../results/run-result.ts';
import { compactPlaywrightMessage, journeyErrorCode } from './classify-journey-error.ts';
import { JourneyInterrupt } from './journey-interrupt.ts';
import { StepFailure } from './step-failure.ts';

export interface JourneyFailure {
  status: RunStatus;
  code: ErrorCode;
  message: string;
}

/** The run's status, error code and one-line message for what ended its body. */
export function describeJourneyFailure(journeyId: string, error: unknown): JourneyFailure {
  if (error instanceof JourneyInterrupt)
    return { status: error.status, code: error.code, message: error.message };
  if (error instanceof StepFailure) {
    const cause = error.reason;
    const prefix = `journey "${journeyId}" step ${error.index} "${error.stepName}": `;
    if (cause instanceof JourneyInterrupt)
      return { status: cause.status, code: cause.code, message: prefix + cause.message };
    return {
      status: 'fail',
      code: journeyErrorCode(cause),
      message: prefix + compactPlaywrightMessage((cause as Error)?.message ?? String(cause)),
    };
  }
  return {
    status: 'fail',
    code: journeyErrorCode(error),
    message: `journey "${journeyId}": ${compactPlaywrightMessage((error as Error)?.message ?? String(error))}`,
  };
}
