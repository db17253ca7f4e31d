import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { runCheck } from '../../src/checks/run-check.ts';
import { formatRun } from '../../src/cli/format-run.ts';
import { parseRunParams, RunParamError } from '../../src/cli/parse-run-params.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { findConfigFile, type LoadedConfig, loadConfig } from '../../src/config/load-config.ts';
import { JourneyLoadError, type LoadedJourney, loadJourneyFile } from '../../src/journeys/load-journey.ts';
import { loadJourneys } from '../../src/journeys/load-journeys.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { globFiles } from '../../src/util/glob-files.ts';
import { CliExit, EXIT_FAIL, EXIT_USAGE } from '../cli/cli-exit.ts';
import { configOption } from '../cli/config-option.ts';
import { extraBrowserArgsFromEnv } from '../cli/extra-browser-args-from-env.ts';
import { loadConfigOrExit } from '../cli/load-config-or-exit.ts';

/** `pathwatch run`: a check or journey by id, a journey file, or a folder of them, once, here, without Redis. */
export function addRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      'run a check or journey (by id), every journey of a file, or every *.journey.ts under a folder, once, here, without Redis: prints status, peers, phase or step timings and the reason (exit 0 all pass, 1 any failed, 2 usage/config)',
    )
    .argument(
      '<id|file|folder>',
      'id of a check or journey in the config, a *.journey.ts file, or a folder of them',
    )
    .addOption(configOption())
    .option('--json', 'print the RunResult as JSON (an array when several ran)')
    .option('-l, --location <name>', 'location name to record the run under', 'local')
    .option(
      '--param <key=value>',
      "journeys: override one of the journey's params (repeatable; the value is JSON when it parses, else a string)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
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
          param: string[];
          headed?: boolean;
          trace?: 'on' | 'retain-on-failure' | 'on-first-retry' | 'off';
        },
      ) => {
        let params: Record<string, unknown> | undefined;
        try {
          params = options.param.length > 0 ? parseRunParams(options.param) : undefined;
        } catch (error) {
          if (error instanceof RunParamError) throw new CliExit(EXIT_USAGE, error.message);
          throw error;
        }
        const runJourneys = async (
          config: LoadedConfig | undefined,
          load: () => Promise<LoadedJourney[]>,
        ) => {
          const { runJourneysCommand } = await import('../../src/cli/run-journey-command.ts');
          let results: RunResult[];
          try {
            results = await runJourneysCommand(await load(), {
              ...options,
              params,
              config,
              extraBrowserArgs: extraBrowserArgsFromEnv(),
            });
          } catch (error) {
            if (error instanceof JourneyLoadError) throw new CliExit(EXIT_USAGE, error.message);
            throw error;
          }
          process.exitCode = results.every(passed) ? 0 : EXIT_FAIL;
        };
        const isDirectory = existsSync(target) && statSync(target).isDirectory();
        if (isDirectory) {
          const files = await globFiles(resolve(target), ['**/*.journey.ts']);
          if (files.length === 0) throw new CliExit(EXIT_USAGE, `${target}: no *.journey.ts file under it`);
          const config = await loadOptionalConfig(options.config);
          return runJourneys(config, async () => (await Promise.all(files.map(loadJourneyFile))).flat());
        }
        if (/\.(m?ts|m?js)$/.test(target) || target.includes('/') || existsSync(target)) {
          const config = await loadOptionalConfig(options.config);
          return runJourneys(config, () => loadJourneyFile(resolve(target)));
        }
        const config = await loadConfigOrExit(options.config);
        const check = config.checks.find((candidate) => candidate.id === target);
        if (check) {
          if (params)
            throw new CliExit(EXIT_USAGE, `--param applies to journeys only; "${target}" is a check`);
          const result = await runCheck(check, {
            location: options.location,
            secrets: config.secrets,
            configDir: config.dir,
          });
          console.log(options.json ? JSON.stringify(result, null, 2) : formatRun(result));
          process.exitCode = passed(result) ? 0 : EXIT_FAIL;
          return;
        }
        const { journeys, issues } = await loadJourneys(config);
        const journey = journeys.find((candidate) => candidate.id === target);
        if (!journey) {
          const problems =
            issues.length > 0
              ? ` (journeys with problems: ${issues.map((issue) => issue.path).join(', ')})`
              : '';
          throw new CliExit(
            EXIT_USAGE,
            `no check or journey "${target}" in ${config.file}; checks: ${config.checks.map((c) => c.id).join(', ') || '(none)'}; journeys: ${journeys.map((j) => j.id).join(', ') || '(none)'}${problems}`,
          );
        }
        return runJourneys(config, async () => [journey]);
      },
    );
}

function passed(result: RunResult): boolean {
  return result.status === 'pass' || result.status === 'degraded';
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
