import type { Command } from 'commander';
import { CliExit, EXIT_USAGE } from '../cli/cli-exit.ts';
import { configOption } from '../cli/config-option.ts';
import { loadConfigOrExit } from '../cli/load-config-or-exit.ts';
import { requireRedisUrl } from '../cli/require-redis-url.ts';
import { runLongLived } from '../cli/run-long-lived.ts';

/** `pathwatch worker`: the runs of one location, from its queues on a shared Redis. */
export function addWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description("run checks for one location from that location's queue on $REDIS_URL")
    .addOption(configOption())
    .requiredOption('-l, --location <name>', 'location whose queue this worker consumes')
    .action(async (options: { config?: string; location: string }) => {
      const config = await loadConfigOrExit(options.config);
      if (!config.locations.includes(options.location)) {
        throw new CliExit(
          EXIT_USAGE,
          `location "${options.location}" is not declared in ${config.file} (declared: ${config.locations.join(', ')})`,
        );
      }
      requireRedisUrl('worker');
      await runLongLived(config, { api: false, scheduler: false, workerLocations: [options.location] });
    });
}
