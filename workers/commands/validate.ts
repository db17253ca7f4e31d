import type { Command } from 'commander';
import { summarizeConfig } from '../../src/cli/summarize-config.ts';
import { EXIT_FAIL } from '../cli/cli-exit.ts';
import { configOption } from '../cli/config-option.ts';
import { exitWhenDone } from '../cli/exit-when-done.ts';
import { loadConfigOrExit } from '../cli/load-config-or-exit.ts';
import { loadJourneysOrExit } from '../cli/load-journeys-or-exit.ts';

/** `pathwatch validate`: every problem of the config and its journeys at once. */
export function addValidateCommand(program: Command): void {
  program
    .command('validate')
    .description('check the config file and report every problem at once (exit 0 valid, 1 invalid)')
    .addOption(configOption())
    .action(async (options: { config?: string }) => {
      // One-shot: a journey file that leaves a timer or socket open must not keep validate alive.
      exitWhenDone();
      const config = await loadConfigOrExit(options.config, EXIT_FAIL);
      const journeys = await loadJourneysOrExit(config, EXIT_FAIL);
      console.log(summarizeConfig(config, journeys));
    });
}
