import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright';
import { tokensInHeader } from '../checks/received-tokens.ts';
import type { SecretResolver } from '../config/secret-resolver.ts';
import type { BrowserSettings } from './browser-settings.ts';
import { harFromTraceNetwork, withApiEntries } from './har-from-trace.ts';
import type { PageObservations } from './page-observations.ts';
import { removeTraceFiles } from './remove-trace-files.ts';
import type { RunArtifacts } from './run-artifacts.ts';
import { EVIDENCE_TIMEOUT_MS, withTimeout } from './with-timeout.ts';

export interface JourneyEvidenceOptions {
  browser: Browser;
  context: BrowserContext;
  page: Page | undefined;
  /** The run failed: a screenshot of the page as it was, and a `retain-on-failure` trace kept. */
  failed: boolean;
  settings: Pick<BrowserSettings, 'trace' | 'har'>;
  /** Whether the context was traced. */
  tracing: boolean;
  /** A traced run takes its HAR from the trace's network log, not from recordHar. */
  harFromTrace: boolean;
  /** Where recordHar wrote the HAR (when not taken from the trace). */
  harPath: string;
  /** The run's scratch directory: the trace.zip is written there before it is redacted. */
  workDir: string;
  tracesDir: string | undefined;
  traceName: string;
  secrets: SecretResolver;
  /** Token reads still pending from collectReceivedTokens. */
  tokenReads: Array<Promise<void>>;
  observations: PageObservations;
  artifacts: RunArtifacts;
  /** Called once the context is closed (the run's cleanup then has nothing left to close). */
  onContextClosed: () => void;
}

/**
 * The evidence of a run that was not cancelled and whose browser is still there: a failure
 * screenshot, the trace and the HAR, each stored only after every token the run saw is known,
 * so that all of them are masked. Closes the context (every step bounded by EVIDENCE_TIMEOUT_MS).
 */
export async function collectJourneyEvidence(options: JourneyEvidenceOptions): Promise<void> {
  const { context, page, settings, secrets, artifacts, tracesDir, traceName } = options;
  if (options.failed && page && !page.isClosed()) await artifacts.screenshot(page, 'failure.png');
  // Every token must be known before any evidence is masked and written.
  await withTimeout(Promise.all(options.tokenReads), EVIDENCE_TIMEOUT_MS);
  const cookies = await withTimeout(context.cookies(), EVIDENCE_TIMEOUT_MS);
  const cookieTokens = new Set<string>();
  for (const cookie of cookies ?? [])
    tokensInHeader('cookie', `${cookie.name}=${cookie.value}`, cookieTokens);
  for (const token of cookieTokens) secrets.maskAlso(token);
  const keepTrace = settings.trace === 'on' || (settings.trace !== 'off' && options.failed);
  let harText: string | undefined;
  if (options.tracing) {
    const tracePath = join(options.workDir, 'trace.zip');
    await withTimeout(
      keepTrace ? context.tracing.stop({ path: tracePath }) : context.tracing.stop(),
      EVIDENCE_TIMEOUT_MS,
    );
    if (keepTrace) await artifacts.storeTrace(tracePath);
    if (options.harFromTrace && tracesDir) {
      // Complete once stop() returns: Playwright flushes requests still in flight then.
      const network = await readFile(join(tracesDir, `${traceName}.network`), 'utf8').catch(() => undefined);
      if (network !== undefined) harText = harFromTraceNetwork(network, options.browser.version());
      await removeTraceFiles(tracesDir, traceName);
    }
  }
  await withTimeout(Promise.all(options.observations.peerLookups), EVIDENCE_TIMEOUT_MS);
  await withTimeout(context.close(), EVIDENCE_TIMEOUT_MS);
  options.onContextClosed();
  if (settings.har) {
    if (!options.harFromTrace) harText = await readFile(options.harPath, 'utf8').catch(() => undefined);
    harText = withApiEntries(harText, options.observations.apiHarEntries, options.browser.version());
    if (harText) await artifacts.storeHar(harText);
  }
}
