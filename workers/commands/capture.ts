import type { Command } from 'commander';
import { createLogger } from '../../src/util/logger.ts';
import { CliExit, EXIT_USAGE } from '../cli/cli-exit.ts';
import { configOption } from '../cli/config-option.ts';
import { loadConfigOrExit } from '../cli/load-config-or-exit.ts';
import { waitForStopSignal } from '../cli/wait-for-stop-signal.ts';

/** `pathwatch capture`: the rolling packet capture alone, for a host that runs no worker. */
export function addCaptureCommand(program: Command): void {
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
      const { CaptureAgent } = await import('../../capture/capture-agent.ts');
      const { FilesystemArtifactStore } = await import('../../src/artifacts/filesystem-artifact-store.ts');
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
}
