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
  // Once it is cut, the probe has PROBE_GRACE_MS to end by itself before the run ends without
  // it: one timer per run until then (a second one per run, armed from the start, cost every
  // run for the rare probe that hangs).
  const controller = new AbortController();
  let endHard: (outcome: ProbeOutcome) => void = () => {};
  let graceTimer: NodeJS.Timeout | undefined;
  const cut = (reason: unknown, outcomeAfterGrace: () => ProbeOutcome) => {
    controller.abort(reason);
    graceTimer ??= setTimeout(() => endHard(outcomeAfterGrace()), PROBE_GRACE_MS);
  };
  const timer = setTimeout(
    () =>
      cut(new Error('timeout'), () => ({
        status: 'fail',
        phases: { total: Date.now() - startedAt },
        peers: [],
        error: timeoutError(undefined, check.id, check.timeout),
      })),
    check.timeout,
  );
  const onOuterAbort = () =>
    cut(options.signal?.reason, () => ({
      status: 'error',
      phases: { total: Date.now() - startedAt },
      peers: [],
    }));
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
