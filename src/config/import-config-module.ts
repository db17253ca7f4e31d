import { Worker } from 'node:worker_threads';
import type { ConfigImportOutcome } from './config-import-worker.ts';
import { describeThrown } from './describe-thrown.ts';

/** Longest a TS config may take to load: esbuild and an import chain, not a network call. */
export const CONFIG_IMPORT_DEADLINE_MS = 20_000;
/** Heap for the loading thread: a config is kilobytes; a runaway loop is stopped here, not in pathwatch. */
const CONFIG_IMPORT_HEAP_MB = 256;

// An eval'd worker is plain JS: it loads tsx first, then the TS worker body through it.
const BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.tsxApi)
  .then(({ tsImport }) => tsImport(workerData.body, workerData.body))
  .catch((error) => parentPort.postMessage({ issues: [{ path: '', message: 'could not start the config loader: ' + String(error && error.message || error) }] }));
`;

/**
 * Evaluates a TypeScript/JavaScript config in a worker thread and returns its default export
 * as plain data. The thread is ended as soon as the value arrives or the deadline passes, so
 * whatever the file leaves behind (a `setInterval`, a socket, an endless loop, a
 * `process.exit()`) ends with it instead of keeping pathwatch from exiting or hanging it.
 */
export function importConfigModule(
  file: string,
  deadlineMs = CONFIG_IMPORT_DEADLINE_MS,
): Promise<ConfigImportOutcome> {
  return new Promise((resolve) => {
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: {
        file,
        tsxApi: import.meta.resolve('tsx/esm/api'),
        body: new URL('./config-import-worker.ts', import.meta.url).href,
      },
      resourceLimits: { maxOldGenerationSizeMb: CONFIG_IMPORT_HEAP_MB },
      // Not the parent's flags: under `node --import tsx` the thread would set up tsx twice.
      execArgv: [],
    });
    let settled = false;
    const finish = (outcome: ConfigImportOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(outcome);
    };
    const problem = (message: string): ConfigImportOutcome => ({ issues: [{ path: '', message }] });
    const timer = setTimeout(
      () =>
        finish(
          problem(
            `did not finish loading within ${deadlineMs / 1000} s (an endless loop, or a top-level await that never settles?)`,
          ),
        ),
      deadlineMs,
    );
    worker.on('message', (outcome: ConfigImportOutcome) => finish(outcome));
    worker.on('error', (error: unknown) => {
      const code = (error as { code?: unknown } | null)?.code;
      finish(
        problem(
          code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? `used more than ${CONFIG_IMPORT_HEAP_MB} MiB while loading`
            : `threw while loading: ${describeThrown(error)}`,
        ),
      );
    });
    // The thread ends on its own only when nothing is left to run: a top-level await on a
    // promise nothing settles, or an explicit process.exit().
    worker.on('exit', (code) =>
      finish(
        problem(
          `stopped while loading, before exporting a config (${code === 0 ? 'a top-level await that nothing settles?' : `process.exit(${code})?`})`,
        ),
      ),
    );
  });
}
