import type { RunResult } from '../results/run-result.ts';
import { maskDeep } from '../util/mask-deep.ts';

/**
 * A result with every string masked, except the ids pathwatch built itself (run, check,
 * location, host, the artifact list): they hold no secret by construction, and a chance match
 * of a secret's encoding inside a random run id must not move where the run is stored.
 */
export function maskRunResult<T extends RunResult>(result: T, mask: (text: string) => string): T {
  const masked = maskDeep(result, mask);
  return {
    ...masked,
    runId: result.runId,
    checkId: result.checkId,
    kind: result.kind,
    location: result.location,
    ...(result.host !== undefined ? { host: result.host } : {}),
    ...(result.artifacts ? { artifacts: result.artifacts } : {}),
  };
}
