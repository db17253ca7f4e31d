import type { ErrorCode } from '../results/error-codes.ts';
import type { RunStatus } from '../results/run-result.ts';
import { compactPlaywrightMessage, journeyErrorCode } from './classify-journey-error.ts';
import { JourneyInterrupt } from './journey-interrupt.ts';
import type { JourneyStepResult } from './journey-step-result.ts';
import { StepFailure } from './step-failure.ts';

export interface JourneyFailure {
  status: RunStatus;
  code: ErrorCode;
  message: string;
}

/**
 * How long before a failing step a failed request still counts as its likely cause: a
 * click's XHR refused just before the step that waits for its result.
 */
export const FAILED_REQUEST_LOOKBACK_MS = 2000;

export interface FailureContext {
  /** The run's step results so far (the failing step is among them). */
  steps: JourneyStepResult[];
  /** Failed requests (masked lines) since an epoch-ms time, at most 3. */
  failuresSince: (since: number) => string[];
}

/**
 * The run's status, error code and one-line message for what ended its body. A step that
 * fails after requests of the page failed (refused, reset, DNS) names them: an assertion
 * on a page whose API call was refused reads as the refusal, not only as the assertion.
 */
export function describeJourneyFailure(
  journeyId: string,
  error: unknown,
  context?: FailureContext,
): JourneyFailure {
  if (error instanceof JourneyInterrupt)
    return { status: error.status, code: error.code, message: error.message };
  if (error instanceof StepFailure) {
    const cause = error.reason;
    const prefix = `journey "${journeyId}" step ${error.index} "${error.stepName}": `;
    const after = failedRequestsNote(error, context);
    if (cause instanceof JourneyInterrupt)
      return {
        status: cause.status,
        code: cause.code,
        message: prefix + cause.message + (cause.status === 'fail' ? after : ''),
      };
    return {
      status: 'fail',
      code: journeyErrorCode(cause),
      message: prefix + compactPlaywrightMessage((cause as Error)?.message ?? String(cause)) + after,
    };
  }
  return {
    status: 'fail',
    code: journeyErrorCode(error),
    message: `journey "${journeyId}": ${compactPlaywrightMessage((error as Error)?.message ?? String(error))}`,
  };
}

function failedRequestsNote(error: StepFailure, context: FailureContext | undefined): string {
  if (!context) return '';
  // The failing step's record: the last failed one of that name (nested steps end inner first).
  const step = context.steps.findLast(
    (candidate) => candidate.status === 'fail' && candidate.name === error.stepName,
  );
  if (!step) return '';
  const failures = context.failuresSince(step.startedAt - FAILED_REQUEST_LOOKBACK_MS);
  return failures.length > 0 ? ` (after ${failures.join('; ')})` : '';
}
