import { type Command, Option } from 'commander';
import { configOption } from '../cli/config-option.ts';
import { loadConfigOrExit } from '../cli/load-config-or-exit.ts';
import { runLongLived } from '../cli/run-long-lived.ts';
import type { StackRoles } from '../start-stack.ts';

/** `pathwatch start`: every role in one process (the quick start). */
export function addStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'run the whole stack in one process: scheduler, a worker for every location, and the API. Uses $REDIS_URL, or starts a private redis-server under the data dir',
    )
    .addOption(configOption())
    .option('--api-port <port>', 'override api.port', (value) => Number(value))
    .addOption(
      new Option(
        '--with-demo-shop [port]',
        'also serve the bundled demo shop (for the quick start)',
      ).argParser((value) => Number(value)),
    )
    .action(async (options: { config?: string; apiPort?: number; withDemoShop?: number | true }) => {
      const config = await loadConfigOrExit(options.config);
      const roles: StackRoles = { api: true, scheduler: true, workerLocations: config.locations };
      await runLongLived(config, roles, options.apiPort, options.withDemoShop);
    });
}
