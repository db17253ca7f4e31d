import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import type { SecretResolver } from '../config/secret-resolver.ts';
import type { ArtifactRef } from '../results/run-result.ts';
import { redactHar } from './redact-har.ts';
import { redactTrace } from './redact-trace.ts';
import { EVIDENCE_TIMEOUT_MS, withTimeout } from './with-timeout.ts';

/**
 * A journey run's evidence as it is stored (`runs/<runId>/…`), masked on the way in; `refs`
 * is the run result's `artifacts`, in the order they were stored.
 */
export class RunArtifacts {
  readonly refs: ArtifactRef[] = [];

  constructor(
    private readonly store: ArtifactStore,
    private readonly runId: string,
    private readonly secrets: SecretResolver,
  ) {}

  /** A screenshot of the page, unless it cannot be taken within the evidence timeout. */
  async screenshot(target: Page, name: string): Promise<void> {
    const image = await withTimeout(target.screenshot({ timeout: EVIDENCE_TIMEOUT_MS }), EVIDENCE_TIMEOUT_MS);
    if (!image) return;
    const stored = await this.store.put(`runs/${this.runId}/${name}`, image, 'image/png');
    this.refs.push({
      kind: 'screenshot',
      key: stored.key,
      bytes: stored.bytes,
      contentType: stored.contentType,
    });
  }

  /** The trace.zip Playwright wrote at `path`, redacted. */
  async storeTrace(path: string): Promise<void> {
    const data = await readFile(path).catch(() => undefined);
    if (!data) return;
    const redacted = Buffer.from(redactTrace(data, this.secrets));
    const stored = await this.store.put(`runs/${this.runId}/trace.zip`, redacted, 'application/zip');
    this.refs.push({ kind: 'trace', key: stored.key, bytes: stored.bytes, contentType: stored.contentType });
  }

  /** The run's HAR, redacted. */
  async storeHar(harText: string): Promise<void> {
    const stored = await this.store.put(
      `runs/${this.runId}/network.har`,
      Buffer.from(redactHar(harText, this.secrets)),
      'application/json',
    );
    this.refs.push({
      kind: 'har',
      key: stored.key,
      bytes: stored.bytes,
      contentType: stored.contentType,
    });
  }
}
