import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { ConfigIssue } from './config-error.ts';
import { describeImportError } from './describe-import-error.ts';
import { describeThrown } from './describe-thrown.ts';
import { toPlainConfigValue } from './plain-config-value.ts';

/** What the worker posts back: the config as plain data, or why there is none. */
export type ConfigImportOutcome =
  | { value: unknown; issues: [] }
  | { value?: undefined; issues: ConfigIssue[] };

/**
 * Runs inside the worker thread started by `importConfigModule`: imports the TS config,
 * awaits a promised default export, and posts back plain data (functions, getters,
 * proxies and cycles are turned into problems here, since none of them crosses threads).
 */
async function importConfig(file: string): Promise<ConfigImportOutcome> {
  const { tsImport } = await import('tsx/esm/api');
  let module: { default?: unknown };
  try {
    module = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  } catch (error) {
    return { issues: [{ path: '', message: describeImportError(error, file) }] };
  }
  let exported: unknown;
  try {
    exported = module.default;
    if (
      exported !== null &&
      typeof exported === 'object' &&
      typeof (exported as PromiseLike<unknown>).then === 'function'
    ) {
      exported = await exported;
    }
  } catch (error) {
    return { issues: [{ path: '', message: `the default export failed: ${describeThrown(error)}` }] };
  }
  if (exported === undefined) {
    return {
      issues: [{ path: '', message: 'has no default export; write `export default defineConfig({...})`' }],
    };
  }
  const plain = toPlainConfigValue(exported);
  return plain.issues.length > 0 ? { issues: plain.issues } : { value: plain.value, issues: [] };
}

const port = parentPort;
if (port) {
  const outcome = await importConfig((workerData as { file: string }).file).catch(
    (error: unknown): ConfigImportOutcome => ({
      issues: [{ path: '', message: `could not load: ${describeThrown(error)}` }],
    }),
  );
  port.postMessage(outcome);
}
