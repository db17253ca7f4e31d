import { join, relative, resolve } from 'node:path';
import { FilesystemArtifactStore } from '../artifacts/filesystem-artifact-store.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import { SecretResolver } from '../config/secret-resolver.ts';
import { BrowserPool } from '../journeys/browser-pool.ts';
import { type BrowserSettings, DEFAULT_BROWSER_SETTINGS } from '../journeys/browser-settings.ts';
import { type LoadedJourney, loadJourneyFile } from '../journeys/load-journey.ts';
import { runJourneyItem } from '../journeys/run-journey-item.ts';
import { SpecWorkerPool } from '../journeys/specs/spec-worker-pool.ts';
import type { RunResult } from '../results/run-result.ts';

export interface RunJourneyCommandOptions {
  /** The config, when there is one: secrets file and browser settings come from it. */
  config?: LoadedConfig;
  headed?: boolean;
  trace?: BrowserSettings['trace'];
  location: string;
  json?: boolean;
  /** Appended to Chromium's arguments (tests keep Chromium on loopback with these). */
  extraBrowserArgs?: string[];
  /** `--param k=v` values: laid over each journey's own `params`. @defaultValue `{}` */
  params?: Record<string, unknown>;
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/**
 * `pathwatch run journeys/x.journey.ts`: every journey the file exports, as
 * runJourneysCommand runs them.
 */
export async function runJourneyCommand(
  file: string,
  options: RunJourneyCommandOptions,
): Promise<RunResult[]> {
  return runJourneysCommand(await loadJourneyFile(resolve(file)), options);
}

/**
 * What QA use before a journey goes live: each journey once, one after the other on one
 * browser. Steps are printed as they run, then the verdict, the peers and where every
 * artifact is; several journeys end with one line each and a total.
 */
export async function runJourneysCommand(
  journeys: LoadedJourney[],
  options: RunJourneyCommandOptions,
): Promise<RunResult[]> {
  const settings: BrowserSettings = {
    ...(options.config?.settings.browser ?? DEFAULT_BROWSER_SETTINGS),
    ...(options.headed ? { headless: false } : {}),
    ...(options.trace ? { trace: options.trace } : {}),
  };
  const dataDir = options.config?.dataDir ?? resolve('.pathwatch');
  const artifactsDir = join(dataDir, 'artifacts');
  const pool = new BrowserPool({ settings, extraArgs: options.extraBrowserArgs });
  // Specs run as the journey worker runs them, so that what passes here passes there.
  const specWorkers = new SpecWorkerPool();
  const print = (line: string) => {
    if (!options.json) console.log(line);
  };
  const results: RunResult[] = [];
  try {
    for (const [index, loaded] of journeys.entries()) {
      const journey = options.params
        ? { ...loaded, params: { ...loaded.params, ...options.params } }
        : loaded;
      if (index > 0) print('');
      print(`${journey.id} (journey) at ${options.location}: ${relative(process.cwd(), journey.file)}`);
      const result = await runJourneyItem(journey, {
        pool,
        specWorkers,
        extraBrowserArgs: options.extraBrowserArgs,
        artifacts: new FilesystemArtifactStore(artifactsDir),
        secrets: options.config?.secrets ?? new SecretResolver(process.env),
        settings,
        location: options.location,
        onStep: (event) => {
          if (event.type === 'end') {
            const mark = event.step.status === 'pass' ? 'ok  ' : 'FAIL';
            print(
              `  ${mark} ${event.index} ${event.step.name.padEnd(24)} ${seconds(event.step.durationMs).padStart(8)}${event.step.error ? `  ${event.step.error}` : ''}`,
            );
          }
        },
      });
      results.push(result);
      printOutcome(result, settings, artifactsDir, print);
    }
  } finally {
    await Promise.all([pool.close(), specWorkers.close()]);
  }
  if (options.json) {
    console.log(JSON.stringify(results.length === 1 ? results[0] : results, null, 2));
    return results;
  }
  if (results.length > 1) {
    print('');
    for (const result of results) {
      const reason = result.error ? `  ${result.error.message}` : '';
      print(
        `${result.status.toUpperCase().padEnd(8)} ${result.checkId} in ${seconds(result.phases.total)}${reason}`,
      );
    }
    const passed = results.filter(
      (result) => result.status === 'pass' || result.status === 'degraded',
    ).length;
    print(`${results.length} journeys: ${passed} passed, ${results.length - passed} failed`);
  }
  return results;
}

function printOutcome(
  result: RunResult,
  settings: BrowserSettings,
  artifactsDir: string,
  print: (line: string) => void,
): void {
  const reason = result.error ? ` (${result.error.class}) ${result.error.message}` : '';
  print(`${result.status.toUpperCase()} in ${seconds(result.phases.total)}${reason}`);
  // Which servers answered: what a network team asks first.
  if (result.peers.length > 0)
    print(`  peers ${result.peers.map((peer) => `${peer.ip}:${peer.port}`).join(', ')}`);
  for (const artifact of result.artifacts ?? []) {
    print(`  ${artifact.kind.padEnd(10)} ${relative(process.cwd(), join(artifactsDir, artifact.key))}`);
  }
  const trace = result.artifacts?.find((artifact) => artifact.kind === 'trace');
  if (trace)
    print(
      `  open the trace: npx playwright show-trace ${relative(process.cwd(), join(artifactsDir, trace.key))}`,
    );
  else if (settings.trace === 'retain-on-failure')
    print('  trace: kept on failure only (--trace on keeps it always)');
}
