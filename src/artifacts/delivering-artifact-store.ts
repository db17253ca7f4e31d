import type { Readable } from 'node:stream';
import type { Logger } from '../util/logger.ts';
import { backoffDelay, type RetryBackoff } from '../util/retry-backoff.ts';
import type { ArtifactRead, ArtifactStore, ByteRangeRequest, StoredArtifact } from './artifact-store.ts';
import { type UploadAnswer, type UploadTarget, uploadArtifact } from './upload-artifact.ts';

export interface DeliveringArtifactStoreOptions {
  /** The worker's own store, its spool: everything in it is not yet delivered. */
  spool: ArtifactStore;
  /** Where spooled artifacts go (`artifacts.deliverTo`). */
  target: UploadTarget;
  logger?: Logger;
  /**
   * Pauses after failed deliveries while the API is unreachable.
   * @defaultValue `{ firstDelayMs: 1000, maxDelayMs: 60000 }` (1 s doubling to 1 min)
   */
  retry?: Partial<RetryBackoff>;
}

/** How long a delivered artifact is still listed here (a crashed run lists its evidence). */
const DELIVERED_LISTED_MS = 3_600_000;
const MAX_DELIVERED_LISTED = 10_000;

type Outcome =
  | { kind: 'delivered'; info: StoredArtifact }
  | { kind: 'gone' }
  /** The API will never take it (too large, a key it refuses): kept in the spool, not retried. */
  | { kind: 'refused'; reason: string }
  | { kind: 'failed'; reason: string };

/**
 * The store of a worker that does not share the API's disk. `put` writes to the local spool
 * first, so nothing is lost while the API or the network is away, then a background loop
 * uploads each artifact to the API, oldest first, and removes it locally once the API
 * answered that it has it: the API's store is the one of record, with its retention and
 * roles. A failure pauses the loop with a growing backoff (1 s to 1 min) and is logged once
 * per outage, with one line when delivery is back. `start()` resumes what an earlier
 * process left in the spool; `close()` delivers what it can for a few seconds, then stops.
 *
 * `get` answers from the spool only (a worker's token cannot read from the API); `list` also
 * names what was delivered in the last hour.
 */
export class DeliveringArtifactStore implements ArtifactStore {
  readonly #spool: ArtifactStore;
  readonly #target: UploadTarget;
  readonly #logger?: Logger;
  readonly #backoff: RetryBackoff;
  /** Keys to deliver, oldest first; `#queued` holds the same keys for lookups. */
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  /** Bumped each time a key is written or deleted, so a delivery never removes a newer copy. */
  readonly #versions = new Map<string, number>();
  readonly #locks = new Map<string, Promise<void>>();
  readonly #delivered = new Map<string, StoredArtifact & { deliveredAt: number }>();
  readonly #refused = new Set<string>();
  readonly #abort = new AbortController();
  #closing = false;
  #loop?: Promise<void>;
  /** Ends the loop's wait for work (a put, or close). */
  #wakeIdle?: () => void;
  /** Ends a backoff pause early: only close does, a put waits for the API like the rest. */
  #wakePause?: () => void;
  /** When the current outage began; undefined while deliveries succeed. */
  #failingSince?: number;

  constructor(options: DeliveringArtifactStoreOptions) {
    this.#spool = options.spool;
    this.#target = options.target;
    this.#logger = options.logger;
    this.#backoff = { firstDelayMs: 1000, maxDelayMs: 60_000, ...options.retry };
  }

  /** Queues what an earlier process left in the spool (oldest first) and starts delivering. */
  async start(): Promise<{ spooled: number }> {
    const left = await this.#spool.list('');
    left.sort((a, b) => a.createdAt - b.createdAt);
    for (const artifact of left) this.#enqueue(artifact.key);
    if (left.length > 0)
      this.#logger?.info(
        { spooled: left.length, to: this.#target.url },
        'artifacts left in the spool by an earlier run; delivering them',
      );
    this.#loop ??= this.#run();
    return { spooled: left.length };
  }

  /**
   * Stops delivering. What is queued gets up to `graceMs` to go; the rest stays in the spool
   * for the next start.
   */
  async close(graceMs = 5000): Promise<void> {
    if (this.#loop && this.#queue.length > this.#refused.size && graceMs > 0)
      await Promise.race([this.drained(), new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    this.#closing = true;
    this.#abort.abort(new Error('the worker is stopping'));
    this.#wakeIdle?.();
    this.#wakePause?.();
    await this.#loop;
    if (this.#queue.length > this.#refused.size)
      this.#logger?.info(
        { spooled: this.#queue.length - this.#refused.size, to: this.#target.url },
        'artifacts stay in the spool until the next start',
      );
  }

  /** Artifacts waiting for delivery (refused ones included). */
  get pending(): number {
    return this.#queue.length;
  }

  /** Resolves when nothing deliverable is queued (refused artifacts aside). */
  async drained(): Promise<void> {
    while (this.#queue.some((key) => !this.#refused.has(key)) && !this.#closing)
      await new Promise((resolve) => setTimeout(resolve, 50));
  }

  async put(key: string, data: Buffer | Readable, contentType: string): Promise<StoredArtifact> {
    const stored = await this.#exclusive(key, async () => {
      const info = await this.#spool.put(key, data, contentType);
      // Bumped once the new copy is whole: a delivery that read the old one will not remove it.
      this.#bump(key);
      return info;
    });
    this.#delivered.delete(key);
    this.#refused.delete(key);
    this.#enqueue(key);
    return stored;
  }

  get(key: string, range?: ByteRangeRequest): Promise<ArtifactRead | undefined> {
    return this.#spool.get(key, range);
  }

  async list(prefix: string): Promise<StoredArtifact[]> {
    const spooled = await this.#spool.list(prefix);
    const keys = new Set(spooled.map((artifact) => artifact.key));
    this.#forgetOldDeliveries();
    const delivered = [...this.#delivered.values()]
      .filter((artifact) => artifact.key.startsWith(prefix) && !keys.has(artifact.key))
      .map(({ deliveredAt: _, ...artifact }) => artifact);
    return [...spooled, ...delivered].sort((a, b) => a.key.localeCompare(b.key));
  }

  /** Deletes the spooled copy; one the API already has stays there (a worker's token cannot delete). */
  async delete(key: string): Promise<void> {
    await this.#exclusive(key, async () => {
      await this.#spool.delete(key);
      this.#bump(key);
    });
    this.#delivered.delete(key);
  }

  #enqueue(key: string): void {
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    this.#wakeIdle?.();
  }

  #dequeue(key: string): void {
    const index = this.#queue.indexOf(key);
    if (index !== -1) this.#queue.splice(index, 1);
    this.#queued.delete(key);
  }

  #bump(key: string): void {
    this.#versions.set(key, (this.#versions.get(key) ?? 0) + 1);
  }

  /** Runs `work` alone for `key`: a write, and a delivery's read or removal, never interleave. */
  async #exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(key) ?? Promise.resolve();
    const run = before.then(work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#locks.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.#locks.get(key) === settled) this.#locks.delete(key);
    }
  }

  async #run(): Promise<void> {
    // Failed deliveries in a row: the pause after each doubles, and a delivery resets it.
    let failures = 0;
    while (!this.#closing) {
      const key = this.#queue.find((candidate) => !this.#refused.has(candidate));
      if (key === undefined) {
        await new Promise<void>((resolve) => {
          this.#wakeIdle = resolve;
        });
        this.#wakeIdle = undefined;
        continue;
      }
      const outcome = await this.#deliver(key);
      if (this.#closing && outcome.kind === 'failed') break;
      if (outcome.kind === 'failed') {
        if (this.#failingSince === undefined) {
          this.#failingSince = Date.now();
          this.#logger?.warn(
            { to: this.#target.url, reason: outcome.reason, spooled: this.#queue.length },
            'artifact delivery is failing; artifacts stay in the local spool and are retried with backoff',
          );
        }
        failures++;
        await this.#pause(backoffDelay(failures, this.#backoff));
        continue;
      }
      failures = 0;
      if (this.#failingSince !== undefined) {
        this.#logger?.info(
          { to: this.#target.url, outageMs: Date.now() - this.#failingSince, spooled: this.#queue.length },
          'artifact delivery is back; delivering the spool',
        );
        this.#failingSince = undefined;
      }
      if (outcome.kind === 'refused') {
        this.#refused.add(key);
        this.#logger?.error(
          { key, to: this.#target.url, reason: outcome.reason },
          'the API refused an artifact; it stays in the local spool and is not retried until the next start',
        );
      } else if (outcome.kind === 'delivered') {
        this.#logger?.debug({ key, bytes: outcome.info.bytes }, 'artifact delivered');
      }
    }
  }

  /** Waits `ms`, or less when the store closes. */
  async #pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wakePause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wakePause = undefined;
  }

  async #deliver(key: string): Promise<Outcome> {
    // Read under the key's lock, with the version it goes with: a write that lands meanwhile
    // bumps the version, and the copy it wrote is kept and delivered again.
    const opened = await this.#exclusive(key, async () => ({
      version: this.#versions.get(key) ?? 0,
      read: await this.#spool.get(key),
    }));
    if (!opened.read) {
      this.#dequeue(key);
      return { kind: 'gone' };
    }
    const { info, stream } = opened.read;
    let answer: UploadAnswer;
    try {
      answer = await uploadArtifact(this.#target, info, stream, this.#abort.signal);
    } catch (error) {
      stream.destroy();
      return { kind: 'failed', reason: (error as Error).message };
    }
    if (answer.status >= 200 && answer.status < 300) {
      const bytes = answerField(answer.body, 'bytes');
      if (bytes !== info.bytes)
        return { kind: 'failed', reason: `the API stored ${String(bytes)} bytes of ${info.bytes}` };
      await this.#exclusive(key, async () => {
        if ((this.#versions.get(key) ?? 0) !== opened.version) return;
        await this.#spool.delete(key);
        this.#dequeue(key);
        this.#versions.delete(key);
        this.#delivered.set(key, { ...info, deliveredAt: Date.now() });
      });
      return { kind: 'delivered', info };
    }
    const reason = `${answer.status} ${answerMessage(answer.body)}`;
    // Too large, or a key or type the API will not take: the same bytes will be refused again.
    // A body the API saw cut short is another matter: the next try sends it whole.
    const incomplete = answerField(answer.body, 'error')?.code === 'UPLOAD_INCOMPLETE';
    if ((answer.status === 400 && !incomplete) || answer.status === 413 || answer.status === 415)
      return { kind: 'refused', reason };
    // Everything else (401/403 a token to fix, 404 an older API, 5xx, 429) may pass later.
    return { kind: 'failed', reason };
  }

  #forgetOldDeliveries(): void {
    const cutoff = Date.now() - DELIVERED_LISTED_MS;
    for (const [key, artifact] of this.#delivered) {
      if (artifact.deliveredAt >= cutoff && this.#delivered.size <= MAX_DELIVERED_LISTED) break;
      this.#delivered.delete(key);
    }
  }
}

/** A field of the API's JSON answer; undefined when the answer is not JSON (a proxy's page). */
// biome-ignore lint/suspicious/noExplicitAny: an answer from the network, read field by field
function answerField(body: string, field: string): any {
  try {
    return (JSON.parse(body) as Record<string, unknown>)?.[field];
  } catch {
    return undefined;
  }
}

/** The sentence of an API error answer, or the start of whatever else came. */
function answerMessage(body: string): string {
  const message = answerField(body, 'error')?.message;
  return typeof message === 'string' ? message : body.slice(0, 200).replace(/\s+/g, ' ');
}
