import { runCheck } from '../../src/checks/run-check.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import type { RunResult } from '../../src/results/run-result.ts';

/**
 * Runs one check given as plain config (validated by the real schema), the way
 * `pathwatch run` does.
 */
export async function runCheckFromConfig(
  check: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<RunResult> {
  const config = await parseConfig(
    { locations: { local: {} }, checks: [{ id: 'probe-under-test', ...check }] },
    '/tmp/test.yaml',
    env,
  );
  return runCheck(config.checks[0], { location: 'local', secrets: config.secrets, configDir: config.dir });
}
