import type { RetentionSettings } from '../config/retention-schema.ts';
import type { Logger } from '../util/logger.ts';
import { ARTIFACT_KINDS } from './artifact-kind.ts';
import { ArtifactRetention, type RetentionLimits, type RetentionPass } from './artifact-retention.ts';
import type { ArtifactStore } from './artifact-store.ts';

/** Longest a stop waits for a pass in progress: shutdown stays within seconds whatever the store. */
const STOP_WAIT_MS = 10_000;

/** The per-kind limits of the `retention` block (its `every` is the schedule's). */
export function retentionLimits(settings: RetentionSettings): RetentionLimits {
  return Object.fromEntries(ARTIFACT_KINDS.map((kind) => [kind, settings[kind]])) as RetentionLimits;
}

/**
 * Retention on a schedule: a pass at start, then `every` after the previous one ended, so
 * passes never overlap however long one takes. It runs in the one process that owns the
 * store (the API's), because two processes deleting from one directory would each count
 * the other's deletions as failures. An artifact that cannot be deleted stays for the next
 * pass and is logged once, not every pass; so is a pass that fails as a whole (the store
 * unreadable), until one succeeds again.
 */
export class RetentionSchedule {
  readonly retention: ArtifactRetention;
  #timer?: NodeJS.Timeout;
  #stopped = false;
  #tick?: Promise<void>;
  /** Keys whose failed deletion has been logged, until they are deleted or gone. */
  #reportedFailures = new Set<string>();
  #reportedPassError?: string;

  constructor(
    store: ArtifactStore,
    private readonly settings: RetentionSettings,
    private readonly logger: Logger,
  ) {
    this.retention = new ArtifactRetention(store, retentionLimits(settings));
  }

  start(): void {
    this.#schedule(0);
  }

  /** No pass starts after this; one in progress is waited for (at most STOP_WAIT_MS). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    let waited: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      (this.#tick ?? Promise.resolve()).then(() => true),
      new Promise<false>((resolve) => {
        waited = setTimeout(() => resolve(false), STOP_WAIT_MS);
      }),
    ]);
    clearTimeout(waited);
    if (!finished)
      this.logger.warn(
        'retention pass still running at shutdown; its remaining deletions wait for the next start',
      );
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#pass().finally(() => this.#schedule(this.settings.every));
    }, delayMs);
    // Retention never keeps the process alive: a stop that forgets it still exits.
    this.#timer.unref();
  }

  async #pass(): Promise<void> {
    let pass: RetentionPass;
    try {
      pass = await this.retention.enforce();
    } catch (error) {
      const message = (error as Error).message;
      if (this.#reportedPassError !== message)
        this.logger.error({ err: message }, 'retention pass failed; it is tried again every interval');
      this.#reportedPassError = message;
      return;
    }
    this.#reportedPassError = undefined;
    this.#report(pass);
  }

  #report(pass: RetentionPass): void {
    const deleted = Object.fromEntries(
      Object.entries(pass.kinds)
        .filter(([, kind]) => kind.deletedByAge + kind.deletedBySize > 0)
        .map(([name, kind]) => [name, { age: kind.deletedByAge, size: kind.deletedBySize }]),
    );
    if (Object.keys(deleted).length > 0)
      this.logger.info({ deleted }, 'retention deleted artifacts over their limits');
    const failing = new Set(pass.failed.map((failure) => failure.key));
    for (const failure of pass.failed) {
      if (this.#reportedFailures.has(failure.key)) continue;
      this.logger.warn(
        { key: failure.key, err: failure.message },
        'artifact over its retention limit could not be deleted; tried again every pass, logged once',
      );
    }
    this.#reportedFailures = failing;
  }
}
