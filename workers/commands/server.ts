import type { Command } from 'commander';
import { configOption } from '../cli/config-option.ts';
import { loadConfigOrExit } from '../cli/load-config-or-exit.ts';
import { requireRedisUrl } from '../cli/require-redis-url.ts';
import { runLongLived } from '../cli/run-long-lived.ts';

/** `pathwatch server`: the API and the scheduler, with workers elsewhere on the same Redis. */
export function addServerCommand(program: Command): void {
  program
    .command('server')
    .description(
      'run the API and the scheduler (no workers) on $REDIS_URL; workers run elsewhere with `pathwatch worker`',
    )
    .addOption(configOption())
    .option('--api-port <port>', 'override api.port', (value) => Number(value))
    .action(async (options: { config?: string; apiPort?: number }) => {
      const config = await loadConfigOrExit(options.config);
      requireRedisUrl('server');
      await runLongLived(config, { api: true, scheduler: true, workerLocations: [] }, options.apiPort);
    });
}
