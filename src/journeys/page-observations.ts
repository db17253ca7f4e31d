import type { Page } from 'playwright';
import type { SecretResolver } from '../config/secret-resolver.ts';
import type { Peer } from '../results/run-result.ts';
import type { JourneyStepResult } from './journey-step-result.ts';

/** At most this many console errors and failed requests are kept per run. */
const MAX_KEPT = 50;

/**
 * What the journey's page shows as it runs, from events Playwright already sends: console
 * errors, failed requests, navigation timings and the servers it talked to.
 */
export class PageObservations {
  readonly consoleErrors: string[] = [];
  readonly failedRequests: Array<{ method: string; url: string; error: string }> = [];
  /** HAR entries of `page.request` / `context.request` calls, which Playwright's HAR and trace leave out. */
  readonly apiHarEntries: Array<Record<string, unknown>> = [];
  /** When each failed request failed (epoch ms), for the failure reason of the step after it. */
  private readonly failures: Array<{ at: number; text: string }> = [];
  readonly peers: Peer[] = [];
  /** Navigations of the main frame, oldest first: a step takes the last one it caused. */
  readonly navigations: NonNullable<JourneyStepResult['navigation']>[] = [];
  /** Pending serverAddr() lookups: awaited (bounded) before the run's peers are final. */
  readonly peerLookups: Array<Promise<void>> = [];

  constructor(private readonly secrets: SecretResolver) {}

  /** A request of the page or of its API context that got no response (refused, reset, DNS, …). */
  recordFailedRequest(method: string, url: string, error: string): void {
    // A request cancelled by a navigation or a closed page is no fault of the target.
    if (error === 'net::ERR_ABORTED') return;
    if (this.failedRequests.length >= MAX_KEPT) return;
    const shownUrl = this.secrets.mask(url);
    const shownError = this.secrets.mask(error);
    this.failedRequests.push({ method, url: shownUrl, error: shownError });
    this.failures.push({ at: Date.now(), text: `${method} ${shownUrl} failed: ${shownError}` });
  }

  /** Records a peer once (ip:port). */
  addPeer(ip: string, port: number): void {
    if (!this.peers.some((peer) => peer.ip === ip && peer.port === port)) this.peers.push({ ip, port });
  }

  /**
   * The requests that failed since `since` (epoch ms), oldest first, at most `max`, masked:
   * what a step that fails after them is likely failing because of.
   */
  failuresSince(since: number, max = 3): string[] {
    return this.failures
      .filter((failure) => failure.at >= since)
      .slice(0, max)
      .map((failure) => failure.text);
  }

  observe(page: Page): void {
    const { secrets, consoleErrors, navigations, peerLookups } = this;
    page.on('console', (message) => {
      if (message.type() === 'error' && consoleErrors.length < MAX_KEPT)
        consoleErrors.push(secrets.mask(message.text()));
    });
    page.on('pageerror', (error) => {
      if (consoleErrors.length < MAX_KEPT) consoleErrors.push(secrets.mask(error.message));
    });
    page.on('requestfailed', (request) => {
      this.recordFailedRequest(request.method(), request.url(), request.failure()?.errorText ?? 'failed');
    });
    // Navigation timings come from events Playwright already sends (the document's
    // response timing, then DOMContentLoaded and load), not from a page.evaluate per step.
    page.on('response', (response) => {
      const request = response.request();
      if (!request.isNavigationRequest() || request.frame() !== page.mainFrame()) return;
      const timing = request.timing();
      navigations.push({
        url: secrets.mask(response.url()),
        startedAt: timing.startTime,
        firstByte: Math.round(timing.responseStart * 10) / 10,
      });
    });
    const markNavigation = (field: 'domContentLoaded' | 'load') => () => {
      const navigation = navigations.at(-1);
      if (navigation && navigation[field] === undefined) {
        navigation[field] = Math.round((Date.now() - navigation.startedAt) * 10) / 10;
      }
    };
    page.on('domcontentloaded', markNavigation('domContentLoaded'));
    page.on('load', markNavigation('load'));
    // One serverAddr() round trip per origin, not per response: peers are per server.
    const originsSeen = new Set<string>();
    page.on('response', (response) => {
      const origin = new URL(response.url()).origin;
      if (originsSeen.has(origin)) return;
      originsSeen.add(origin);
      peerLookups.push(
        response
          .serverAddr()
          .then((address) => {
            if (address) this.addPeer(address.ipAddress, address.port);
          })
          .catch(() => {}),
      );
    });
  }
}
