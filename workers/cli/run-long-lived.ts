import type { LoadedConfig } from '../../src/config/load-config.ts';
import type { DemoShop } from '../../src/demo-shop/demo-shop.ts';
import { DataDirInUseError, RedisNotInstalledError } from '../../src/redis/private-redis-server.ts';
import { RedisUnreachableError } from '../../src/redis/redis-connection.ts';
import { createLogger } from '../../src/util/logger.ts';
import { type RunningStack, type StackRoles, startStack } from '../start-stack.ts';
import { CliExit, EXIT_USAGE } from './cli-exit.ts';
import { extraBrowserArgsFromEnv } from './extra-browser-args-from-env.ts';
import { loadJourneysOrExit } from './load-journeys-or-exit.ts';
import { waitForStopSignal } from './wait-for-stop-signal.ts';

/**
 * Longest a graceful stop may take. Runs in flight are cancelled and stored at once, so what
 * is left is closing Chromium, cutting the capture slices of the last runs and the last
 * Redis writes: seconds. Past this, something is wedged (Redis gone): say so and exit.
 */
const STOP_DEADLINE_MS = 30_000;

/** `start`, `server` and `worker`: the roles asked for, until SIGINT or SIGTERM. */
export async function runLongLived(
  config: LoadedConfig,
  roles: StackRoles,
  apiPort?: number,
  demoShopPort?: number | true,
): Promise<void> {
  const logger = createLogger('pathwatch');
  const journeys =
    roles.scheduler || roles.workerLocations.length > 0 ? await loadJourneysOrExit(config) : [];
  // The demo shop is the example's target, so it is up before the first run fires.
  let shop: DemoShop | undefined;
  if (demoShopPort !== undefined) {
    const { startDemoShop } = await import('../../src/demo-shop/demo-shop.ts');
    shop = await startDemoShop({ port: demoShopPort === true ? 4601 : demoShopPort });
  }
  let stack: RunningStack;
  try {
    stack = await startStack({
      config,
      journeys,
      logger,
      roles,
      redisUrl: process.env.REDIS_URL || undefined,
      apiPort,
      extraBrowserArgs: extraBrowserArgsFromEnv(),
    });
  } catch (error) {
    await shop?.close();
    if (
      error instanceof RedisNotInstalledError ||
      error instanceof RedisUnreachableError ||
      error instanceof DataDirInUseError
    ) {
      throw new CliExit(EXIT_USAGE, error.message);
    }
    throw error;
  }
  if (shop) {
    console.log(
      `pathwatch: demo shop at ${shop.url} (make it misbehave: curl -X POST ${shop.url}/admin/faults -d '{"status500":true}')`,
    );
  }
  console.log(
    `pathwatch: redis at ${stack.redisUrl.replace(/\/\/[^@]*@/, '//***@')}${process.env.REDIS_URL ? '' : ` (private, data in ${config.dataDir}/redis)`}`,
  );
  if (roles.workerLocations.length > 0)
    console.log(`pathwatch: workers for ${roles.workerLocations.join(', ')}`);
  if (stack.apiUrl)
    console.log(`pathwatch: API at ${stack.apiUrl} (try: curl ${stack.apiUrl}/api/v1/checks)`);
  console.log('pathwatch: running; Ctrl-C stops after in-flight runs finish');
  const signal = await waitForStopSignal();
  console.log(`pathwatch: ${signal}, stopping (in-flight runs finish; Ctrl-C again to quit now)`);
  // A stop that cannot finish (Redis gone, a wedged probe) must not hang a terminal or a
  // container's stop forever: past the deadline, say so and exit.
  const deadline = setTimeout(() => {
    console.error(`pathwatch: could not stop cleanly within ${STOP_DEADLINE_MS / 1000} s; exiting`);
    process.exit(1);
  }, STOP_DEADLINE_MS);
  deadline.unref();
  await shop?.close();
  await stack.stop();
  clearTimeout(deadline);
  console.log('pathwatch: stopped');
}
