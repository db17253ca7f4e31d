import { ConfigError } from '../../src/config/config-error.ts';
import { findConfigFile, type LoadedConfig, loadConfig } from '../../src/config/load-config.ts';
import { CliExit, EXIT_USAGE } from './cli-exit.ts';

/** The config, or every problem in it as the command's exit message. */
export async function loadConfigOrExit(
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
