import { Command, CommanderError } from 'commander';
import { processSecretMasker } from '../src/config/secret-masker.ts';
import { LogFormatError } from '../src/util/log-format-error.ts';
import { PATHWATCH_VERSION } from '../src/version.ts';
import { CliExit, EXIT_USAGE } from './cli/cli-exit.ts';
import { exitWhenDoneRequested } from './cli/exit-when-done.ts';
import { addAlertsCommand } from './commands/alerts.ts';
import { addAnalyzeCommand } from './commands/analyze.ts';
import { addCaptureCommand } from './commands/capture.ts';
import { addDemoShopCommand } from './commands/demo-shop.ts';
import { addInitCommand } from './commands/init.ts';
import { addReportCommand } from './commands/report.ts';
import { addRunCommand } from './commands/run.ts';
import { addServerCommand } from './commands/server.ts';
import { addStartCommand } from './commands/start.ts';
import { addTokenCommand } from './commands/token.ts';
import { addTraceCommand } from './commands/trace.ts';
import { addValidateCommand } from './commands/validate.ts';
import { addWorkerCommand } from './commands/worker.ts';

// The `pathwatch` command (bin/pathwatch.js): one file per subcommand under commands/.
// Commands are added with program.command() inside each file, so they inherit
// exitOverride() and showHelpAfterError() from the program.
const program = new Command('pathwatch')
  .description(
    'Synthetic monitoring: protocol checks and browser journeys from inside and outside, with packet captures of every timeout.',
  )
  .version(PATHWATCH_VERSION)
  .showHelpAfterError()
  .exitOverride();

// In the order `--help` lists them.
for (const addCommand of [
  addInitCommand,
  addValidateCommand,
  addRunCommand,
  addStartCommand,
  addServerCommand,
  addWorkerCommand,
  addCaptureCommand,
  addAnalyzeCommand,
  addTraceCommand,
  addTokenCommand,
  addAlertsCommand,
  addReportCommand,
  addDemoShopCommand,
]) {
  addCommand(program);
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
  } else if (error instanceof LogFormatError) {
    console.error(error.message);
    process.exitCode = EXIT_USAGE;
  } else if (error instanceof CliExit) {
    // Masked: a message may quote what a server answered, and a server may echo a secret.
    console.error(processSecretMasker.mask(error.message));
    process.exitCode = error.exitCode;
  } else {
    console.error(
      processSecretMasker.mask(`pathwatch: unexpected error: ${(error as Error)?.stack ?? String(error)}`),
    );
    process.exitCode = EXIT_USAGE;
  }
}
// stdout and stderr are synchronous for files and pipes on Linux, so nothing printed is lost.
if (exitWhenDoneRequested()) process.exit();
