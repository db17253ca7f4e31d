import { type Command, Option } from 'commander';
import { runCheck } from '../../src/checks/run-check.ts';
import { formatRun } from '../../src/cli/format-run.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { findConfigFile, type LoadedConfig, loadConfig } from '../../src/config/load-config.ts';
import { JourneyLoadError } from '../../src/journeys/load-journey.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { CliExit, EXIT_FAIL, EXIT_USAGE } from '../cli/cli-exit.ts';
import { configOption } from '../cli/config-option.ts';
import { extraBrowserArgsFromEnv } from '../cli/extra-browser-args-from-env.ts';
import { loadConfigOrExit } from '../cli/load-config-or-exit.ts';

/** `pathwatch run`: one check or one journey, once, here, without Redis. */
export function addRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      'run one check (by id) or one journey (by file) once, here, without Redis: prints status, phase or step timings and the reason (exit 0 pass, 1 fail, 2 usage/config)',
    )
    .argument('<check-id|journey-file>', 'id of a check in the config, or a journeys/*.journey.ts file')
    .addOption(configOption())
    .option('--json', 'print the RunResult as JSON')
    .option('-l, --location <name>', 'location name to record the run under', 'local')
    .option('--headed', 'journeys: show the browser window')
    .addOption(
      new Option('--trace <mode>', 'journeys: keep the Playwright trace').choices([
        'on',
        'retain-on-failure',
        'on-first-retry',
        'off',
      ]),
    )
    .action(
      async (
        target: string,
        options: {
          config?: string;
          json?: boolean;
          location: string;
          headed?: boolean;
          trace?: 'on' | 'retain-on-failure' | 'on-first-retry' | 'off';
        },
      ) => {
        if (/\.(m?ts|m?js)$/.test(target) || target.includes('/')) {
          const config = await loadOptionalConfig(options.config);
          const { runJourneyCommand } = await import('../../src/cli/run-journey-command.ts');
          let result: RunResult;
          try {
            result = await runJourneyCommand(target, {
              ...options,
              config,
              extraBrowserArgs: extraBrowserArgsFromEnv(),
            });
          } catch (error) {
            if (error instanceof JourneyLoadError) throw new CliExit(EXIT_USAGE, error.message);
            throw error;
          }
          process.exitCode = result.status === 'pass' || result.status === 'degraded' ? 0 : EXIT_FAIL;
          return;
        }
        const config = await loadConfigOrExit(options.config);
        const check = config.checks.find((candidate) => candidate.id === target);
        if (!check) {
          throw new CliExit(
            EXIT_USAGE,
            `no check "${target}" in ${config.file}; checks: ${config.checks.map((c) => c.id).join(', ') || '(none)'}`,
          );
        }
        const result = await runCheck(check, {
          location: options.location,
          secrets: config.secrets,
          configDir: config.dir,
        });
        console.log(options.json ? JSON.stringify(result, null, 2) : formatRun(result));
        process.exitCode = result.status === 'pass' || result.status === 'degraded' ? 0 : EXIT_FAIL;
      },
    );
}

/** A journey can run without a config; when one is found, its secrets and browser settings apply. */
async function loadOptionalConfig(configOption: string | undefined): Promise<LoadedConfig | undefined> {
  try {
    return await loadConfig(findConfigFile(configOption));
  } catch (error) {
    if (error instanceof ConfigError) {
      if (!configOption && error.issues[0]?.message.startsWith('no config file found')) return undefined;
      throw new CliExit(EXIT_USAGE, error.message);
    }
    throw error;
  }
}
