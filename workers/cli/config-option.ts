import { Option } from 'commander';

/** `--config`, shared by every command that reads the config. */
export const configOption = () =>
  new Option(
    '-c, --config <file>',
    'config file (default: pathwatch.config.ts / .yaml in the current directory, or $PATHWATCH_CONFIG)',
  );
