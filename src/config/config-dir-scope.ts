import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<string>();

/**
 * Runs a schema parse knowing the config file's directory, so that options naming files
 * (a CA bundle) are checked against the disk while validating, where a missing file is a
 * config problem with its path, rather than at the first run, where it is a crashed probe.
 * Parses outside a config load (a check built in a test) skip those checks.
 */
export function inConfigDir<T>(dir: string, parse: () => T): T {
  return scope.run(dir, parse);
}

export function currentConfigDir(): string | undefined {
  return scope.getStore();
}
