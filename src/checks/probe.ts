import type { SecretResolver } from '../config/secret-resolver.ts';
import type { ProbeOutcome } from '../results/run-result.ts';

/**
 * What a probe gets besides its check. The caller owns the deadline: it aborts `signal`
 * when the check's timeout runs out, and the probe only has to honour the signal and say
 * which phase was running.
 */
export interface ProbeContext {
  signal: AbortSignal;
  /** Epoch ms at which `signal` fires. */
  deadline: number;
  /** The check's whole timeout in ms, for messages such as "timed out after 5000 ms". */
  timeoutMs: number;
  location: string;
  secrets: SecretResolver;
  /** Directory of the config file: relative paths in a check (a CA file) are resolved from it. */
  configDir: string;
}

/** One protocol: a schema branch plus the function that runs it. Registered in registry.ts only. */
export interface Probe<Check> {
  run(check: Check, context: ProbeContext): Promise<ProbeOutcome>;
}
