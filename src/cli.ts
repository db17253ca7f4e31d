import { Command, CommanderError, Option } from 'commander';
import { runCheck } from './checks/run-check.ts';
import { formatRun } from './cli/format-run.ts';
import { summarizeConfig } from './cli/summarize-config.ts';
import { ConfigError } from './config/config-error.ts';
import { findConfigFile, type LoadedConfig, loadConfig } from './config/load-config.ts';
import type { DemoShop } from './demo-shop/demo-shop.ts';
import { JourneyLoadError } from './journeys/load-journey.ts';
import { loadJourneys, type ResolvedJourney } from './journeys/load-journeys.ts';
import { DataDirInUseError, RedisNotInstalledError } from './redis/private-redis-server.ts';
import { RedisUnreachableError } from './redis/redis-connection.ts';
import type { RunResult } from './results/run-result.ts';
import { type RunningStack, type StackRoles, startStack } from './stack/start-stack.ts';
import { createLogger } from './util/logger.ts';
import { PATHWATCH_VERSION } from './version.ts';

/** Exit codes: 0 pass/ok, 1 a check failed or the config has problems, 2 usage or setup error. */
const EXIT_FAIL = 1;
const EXIT_USAGE = 2;
/**
 * Longest a graceful stop may take. Runs in flight are cancelled and stored at once, so what
 * is left is closing Chromium, cutting the capture slices of the last runs and the last
 * Redis writes: seconds. Past this, something is wedged (Redis gone): say so and exit.
 */
const STOP_DEADLINE_MS = 30_000;

/** Set by one-shot commands: exit once they are done, whatever handles user code left open. */
let exitWhenDone = false;

class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

async function loadConfigOrExit(
  configOption: string | undefined,
  exitCode = EXIT_USAGE,
): Promise<LoadedConfig> {
  try {
    return await loadConfig(findConfigFile(configOption));
  } catch (error) {
    if (error instanceof ConfigError) throw new CliExit(exitCode, error.message);
    throw error;
  }
}

/** Journey files are part of the config: a broken one stops start-up like a config error. */
async function loadJourneysOrExit(config: LoadedConfig, exitCode = EXIT_USAGE): Promise<ResolvedJourney[]> {
  const { journeys, issues } = await loadJourneys(config);
  if (issues.length > 0) {
    throw new CliExit(
      exitCode,
      `${config.file}: journeys (${[config.settings.journeys].flat().join(', ')}): ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n')}`,
    );
  }
  return journeys;
}

const program = new Command('pathwatch')
  .description(
    'Synthetic monitoring: protocol checks and browser journeys from inside and outside, with packet captures of every timeout.',
  )
  .version(PATHWATCH_VERSION)
  .showHelpAfterError()
  .exitOverride();

const configOption = () =>
  new Option(
    '-c, --config <file>',
    'config file (default: pathwatch.config.ts / .yaml in the current directory, or $PATHWATCH_CONFIG)',
  );

program
  .command('validate')
  .description('check the config file and report every problem at once (exit 0 valid, 1 invalid)')
  .addOption(configOption())
  .action(async (options: { config?: string }) => {
    // One-shot: a journey file that leaves a timer or socket open must not keep validate alive.
    exitWhenDone = true;
    const config = await loadConfigOrExit(options.config, EXIT_FAIL);
    const journeys = await loadJourneysOrExit(config, EXIT_FAIL);
    console.log(summarizeConfig(config, journeys));
  });

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
        const { runJourneyCommand } = await import('./cli/run-journey-command.ts');
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

/** PATHWATCH_EXTRA_BROWSER_ARGS: extra Chromium flags, one per line (tests keep Chromium on loopback). */
function extraBrowserArgsFromEnv(): string[] {
  return (process.env.PATHWATCH_EXTRA_BROWSER_ARGS ?? '').split('\n').filter(Boolean);
}

program
  .command('start')
  .description(
    'run the whole stack in one process: scheduler, a worker for every location, and the API. Uses $REDIS_URL, or starts a private redis-server under the data dir',
  )
  .addOption(configOption())
  .option('--api-port <port>', 'override api.port', (value) => Number(value))
  .addOption(
    new Option('--with-demo-shop [port]', 'also serve the bundled demo shop (for the quick start)').argParser(
      (value) => Number(value),
    ),
  )
  .action(async (options: { config?: string; apiPort?: number; withDemoShop?: number | true }) => {
    const config = await loadConfigOrExit(options.config);
    const roles: StackRoles = { api: true, scheduler: true, workerLocations: config.locations };
    await runLongLived(config, roles, options.apiPort, options.withDemoShop);
  });

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

program
  .command('capture')
  .description(
    "keep the rolling packet capture of this host as configured in `capture` (workers do this themselves when capture is enabled); prints the ring's health on exit",
  )
  .addOption(configOption())
  .action(async (options: { config?: string }) => {
    const config = await loadConfigOrExit(options.config);
    const settings = config.settings.capture;
    if (!settings) throw new CliExit(EXIT_USAGE, `${config.file} has no capture section`);
    const { CaptureAgent } = await import('../capture/capture-agent.ts');
    const { FilesystemArtifactStore } = await import('./artifacts/filesystem-artifact-store.ts');
    const { join } = await import('node:path');
    const ringDir = join(config.dataDir, 'capture', 'ring');
    const agent = new CaptureAgent(
      settings,
      ringDir,
      new FilesystemArtifactStore(join(config.dataDir, 'artifacts')),
      createLogger('capture'),
      { excludePorts: [config.settings.api.port] },
    );
    const started = await agent.start();
    if (!started.capturing) throw new CliExit(EXIT_USAGE, `pathwatch capture: ${started.reason}`);
    console.log(
      `pathwatch: capturing on ${settings.interface} into ${ringDir} (ring ${settings.ringSize} bytes); Ctrl-C stops`,
    );
    await waitForStopSignal();
    const health = agent.health();
    await agent.stop();
    console.log(`pathwatch: capture stopped: ${JSON.stringify(health)}`);
  });

program
  .command('analyze')
  .description(
    'analyze a pcap file (EN10MB, LINUX_SLL, LINUX_SLL2): per flow SYNs, retransmissions, resets, TLS; DNS queries; and a one-line diagnosis',
  )
  .argument('<pcap-file>', "a classic pcap file, e.g. a run's capture.pcap")
  .option('--json', 'print the analysis as JSON')
  .action(async (file: string, options: { json?: boolean }) => {
    const { analyzeCapture } = await import('../capture/analyze-capture.ts');
    const { formatAnalysis } = await import('../capture/format-analysis.ts');
    const { PcapFormatError } = await import('../capture/pcap-format-error.ts');
    try {
      const analysis = await analyzeCapture(file);
      console.log(options.json ? JSON.stringify(analysis, null, 2) : formatAnalysis(analysis));
    } catch (error) {
      // A bad file (not a pcap, a directory, unreadable) is one line, never a stack trace.
      if (error instanceof PcapFormatError || typeof (error as NodeJS.ErrnoException).code === 'string') {
        throw new CliExit(EXIT_USAGE, `pathwatch analyze: ${(error as Error).message.split('\n')[0]}`);
      }
      throw error;
    }
  });

program
  .command('demo-shop')
  .description('serve the bundled demo shop that the example config monitors')
  .option('-p, --port <port>', 'port', (value) => Number(value), 4601)
  .option('--host <address>', 'address to listen on (0.0.0.0 in a container)', '127.0.0.1')
  .action(async (options: { port: number; host: string }) => {
    const { startDemoShop } = await import('./demo-shop/demo-shop.ts');
    const shop = await startDemoShop({ port: options.port, host: options.host });
    console.log(`demo shop listening on ${shop.url}`);
    await waitForStopSignal();
    await shop.close();
  });

function requireRedisUrl(command: string): void {
  if (!process.env.REDIS_URL) {
    throw new CliExit(
      EXIT_USAGE,
      `pathwatch ${command} needs REDIS_URL (the Redis shared with the other pathwatch processes), e.g. REDIS_URL=redis://127.0.0.1:6379`,
    );
  }
}

function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // A second Ctrl-C while in-flight runs finish means "now".
      process.once('SIGINT', () => process.exit(130));
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

async function runLongLived(
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
    const { startDemoShop } = await import('./demo-shop/demo-shop.ts');
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

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode =
      error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : EXIT_USAGE;
  } else if ((error as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
    const { address, port } = error as { address?: string; port?: number };
    console.error(
      `pathwatch: ${address}:${port} is already in use (another pathwatch or demo shop running?); stop it, or choose another port (--api-port, --with-demo-shop PORT)`,
    );
    process.exitCode = EXIT_USAGE;
  } else if (error instanceof CliExit) {
    console.error(error.message);
    process.exitCode = error.exitCode;
  } else {
    console.error(`pathwatch: unexpected error: ${(error as Error)?.stack ?? String(error)}`);
    process.exitCode = EXIT_USAGE;
  }
}
// stdout and stderr are synchronous for files and pipes on Linux, so nothing printed is lost.
if (exitWhenDone) process.exit();
