import { randomUUID } from 'node:crypto';
import type { ResolvedCheck } from '../config/load-config.ts';
import type { SecretResolver } from '../config/secret-resolver.ts';
import { SecretError } from '../config/secret-resolver.ts';
import { maskRunResult } from './mask-run-result.ts';
import { timeoutError } from './network-error.ts';
import { probeFor } from './registry.ts';
import { localPortsOf } from './remote-endpoint.ts';
import type { ProbeOutcome, RunResult } from './run-result.ts';

export interface RunCheckOptions {
  location: string;
  secrets: SecretResolver;
  configDir: string;
  runId?: string;
  scheduledAt?: number;
  attempt?: number;
  /** Aborts the run from outside (a worker shutting down hard). */
  signal?: AbortSignal;
}

/**
 * A probe that ignores its signal must not hold a worker slot forever: past the deadline
 * plus this grace the run is recorded as timed out whatever the probe is doing.
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
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('timeout')), check.timeout);
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let graceTimer: NodeJS.Timeout | undefined;
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
          ? { class: 'config', message: error.message }
          : {
              class: 'internal',
              message: `probe ${check.kind} crashed: ${(error as Error)?.message ?? String(error)}`,
            },
    };
  } finally {
    clearTimeout(timer);
    clearTimeout(graceTimer);
    options.signal?.removeEventListener('abort', onOuterAbort);
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
