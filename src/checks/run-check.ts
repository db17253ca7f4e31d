import { randomUUID } from 'node:crypto';
import type { ResolvedCheck } from '../config/load-config.ts';
import type { SecretResolver } from '../config/secret-resolver.ts';
import { SecretError } from '../config/secret-resolver.ts';
import { errorOf } from '../results/error-codes.ts';
import type { ProbeOutcome, RunResult } from '../results/run-result.ts';
import { maskRunResult } from './mask-run-result.ts';
import { timeoutError } from './network-error.ts';
import { probeFor } from './registry.ts';
import { localPortsOf } from './remote-endpoint.ts';
import { RunCancelledError } from './run-cancelled-error.ts';

export interface RunCheckOptions {
  location: string;
  secrets: SecretResolver;
  configDir: string;
  runId?: string;
  scheduledAt?: number;
  attempt?: number;
  /**
   * The caller's signal (the worker's job: BullMQ's signal and the worker's stop). The probe
   * gets it combined with the check's deadline; a run it aborts is stored as status `error`
   * with the abort reason ("cancelled by shutdown").
   */
  signal?: AbortSignal;
}

/**
 * A probe that ignores its signal must not hold a worker slot forever: past the deadline
 * (or the caller's abort) plus this grace the run ends whatever the probe is doing.
 */
const PROBE_GRACE_MS = 1000;

/**
 * Runs one check once and always returns a RunResult: a failing target is a result, and
 * so is a probe that throws (status "error"), so the caller never loses a run.
 */
export async function runCheck(check: ResolvedCheck, options: RunCheckOptions): Promise<RunResult> {
  const startedAt = Date.now();
  // The run's own resolver: tokens the probe receives are masked in this result too.
  const secrets = options.secrets.forRun();
  // One signal for the probe: the check's deadline or the caller's abort, whichever first.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('timeout')), check.timeout);
  let graceTimer: NodeJS.Timeout | undefined;
  let cancelGraceTimer: NodeJS.Timeout | undefined;
  let endHard: (outcome: ProbeOutcome) => void = () => {};
  const onOuterAbort = () => {
    controller.abort(options.signal?.reason);
    cancelGraceTimer = setTimeout(
      () => endHard({ status: 'error', phases: { total: Date.now() - startedAt }, peers: [] }),
      PROBE_GRACE_MS,
    );
  };
  // An abort before the probe starts cancels it before it sends anything.
  if (options.signal?.aborted) onOuterAbort();
  else options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let outcome: ProbeOutcome;
  try {
    const probeRun = probeFor(check).run(check, {
      signal: controller.signal,
      deadline: startedAt + check.timeout,
      timeoutMs: check.timeout,
      location: options.location,
      secrets,
      configDir: options.configDir,
    });
    const hardStop = new Promise<ProbeOutcome>((resolve) => {
      endHard = resolve;
      graceTimer = setTimeout(
        () =>
          resolve({
            status: 'fail',
            phases: { total: Date.now() - startedAt },
            peers: [],
            error: timeoutError(undefined, check.id, check.timeout),
          }),
        check.timeout + PROBE_GRACE_MS,
      );
    });
    outcome = await Promise.race([probeRun, hardStop]);
  } catch (error) {
    outcome = {
      status: 'error',
      phases: { total: Date.now() - startedAt },
      peers: [],
      error:
        error instanceof SecretError
          ? errorOf('CONFIG', error.message)
          : errorOf('INTERNAL', `probe ${check.kind} crashed: ${(error as Error)?.message ?? String(error)}`),
    };
  } finally {
    clearTimeout(timer);
    clearTimeout(graceTimer);
    clearTimeout(cancelGraceTimer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
  // A run the caller cut is not the target's failure: it is stored as cancelled, with the
  // phase that was running and what the probe had measured so far.
  if (options.signal?.aborted && outcome.status !== 'pass' && outcome.status !== 'degraded') {
    outcome = {
      ...outcome,
      status: 'error',
      error: errorOf('CANCELLED', RunCancelledError.messageOf(options.signal.reason), outcome.error?.phase),
    };
  }
  // Masked whole where it leaves the probe: every field (an assertion's `actual` holding
  // `Bearer …` included), in every encoding.
  const result: RunResult = {
    runId: options.runId ?? randomUUID(),
    checkId: check.id,
    kind: check.kind,
    location: options.location,
    scheduledAt: options.scheduledAt,
    startedAt,
    finishedAt: Date.now(),
    attempt: options.attempt ?? 1,
    timeoutMs: check.timeout,
    intervalMs: check.interval,
    ...outcome,
  };
  // The probe's sockets' own ports, so a capture can tell this run's flows from others'.
  const localPorts = localPortsOf(outcome.peers);
  if (localPorts.length > 0) result.localPorts = localPorts;
  return maskRunResult(result, (text) => secrets.mask(text));
}
