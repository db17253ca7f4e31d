import { maskRunResult } from '../checks/mask-run-result.ts';
import type { SecretResolver } from '../config/secret-resolver.ts';
import type { CodedRunError } from '../results/error-codes.ts';
import type { RunResult, RunStatus } from '../results/run-result.ts';
import type { JourneyStepResult } from './journey-step-result.ts';
import type { PageObservations } from './page-observations.ts';
import type { RunArtifacts } from './run-artifacts.ts';

/** What a journey run knows from its start: the identity fields of its result. */
export type JourneyRunIdentity = Pick<
  RunResult,
  'runId' | 'checkId' | 'kind' | 'location' | 'scheduledAt' | 'startedAt' | 'attempt' | 'intervalMs'
>;

export interface JourneyRunRecord {
  identity: JourneyRunIdentity;
  /** performance.now() when the run started: `phases.total` is measured from it. */
  t0: number;
  steps: JourneyStepResult[];
  observations: PageObservations;
  artifacts: RunArtifacts;
  /** The run's own resolver: its secrets and every token the run received. */
  secrets: SecretResolver;
}

/** The run's result, masked whole where it leaves the journey: every field, in every encoding. */
export function finishJourneyRun(
  run: JourneyRunRecord,
  status: RunStatus,
  error?: CodedRunError,
  details?: Record<string, unknown>,
): RunResult {
  const { consoleErrors, failedRequests, peers } = run.observations;
  return maskRunResult(
    {
      ...run.identity,
      finishedAt: Date.now(),
      status,
      phases: { total: Math.round((performance.now() - run.t0) * 10) / 10 },
      peers,
      steps: run.steps,
      artifacts: run.artifacts.refs,
      ...(error ? { error } : {}),
      details: { consoleErrors, failedRequests, ...details },
    },
    (text) => run.secrets.mask(text),
  );
}
