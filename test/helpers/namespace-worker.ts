import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { TestNamespace } from './network-namespace.ts';
import { CLI, REPO_ROOT } from './run-cli.ts';

/**
 * `pathwatch worker --location <location>` run inside a test's network namespace: a remote
 * location whose packets the test can drop. Silent unless DEBUG_OUTSIDE is set; `stop()`
 * ends it with SIGTERM and waits for it.
 */
export function startWorkerInNamespace(
  namespace: TestNamespace,
  options: { location: string; configFile: string; redisUrl: string },
): { stop(): Promise<void> } {
  const debug = Boolean(process.env.DEBUG_OUTSIDE);
  const worker = spawn(
    'ip',
    [
      'netns',
      'exec',
      namespace.name,
      process.execPath,
      CLI,
      'worker',
      '--location',
      options.location,
      '--config',
      options.configFile,
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, REDIS_URL: options.redisUrl, PATHWATCH_LOG_LEVEL: debug ? 'info' : 'silent' },
      stdio: debug ? 'inherit' : 'ignore',
    },
  );
  return {
    async stop() {
      if (worker.exitCode !== null || worker.signalCode !== null) return;
      worker.kill('SIGTERM');
      await once(worker, 'exit');
    },
  };
}
