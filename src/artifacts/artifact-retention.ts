import { ARTIFACT_KINDS, type ArtifactKind, artifactKindOf } from './artifact-kind.ts';
import type { ArtifactStore, StoredArtifact } from './artifact-store.ts';

export interface RetentionLimit {
  /** Artifacts older than this are deleted (ms). */
  maxAge: number;
  /** Above this many bytes of the kind, the oldest are deleted until it fits. */
  maxBytes: number;
}

export type RetentionLimits = Record<ArtifactKind, RetentionLimit>;

export interface RetentionPass {
  at: number;
  /** Per kind: what is kept after the pass, and what it deleted and why. */
  kinds: Record<ArtifactKind, { files: number; bytes: number; deletedByAge: number; deletedBySize: number }>;
  /** Deletions that failed (kept for the next pass), by key. */
  failed: Array<{ key: string; message: string }>;
}

/**
 * Deletes evidence over its limits: first every artifact older than its kind's `maxAge`,
 * then, oldest first, whatever takes a kind past its `maxBytes`. Nothing else is touched:
 * an artifact is only ever deleted for one of those two reasons, and the pass says which.
 */
export class ArtifactRetention {
  #last?: RetentionPass;
  #running?: Promise<RetentionPass>;
  /** Deletions since this process started, per kind and reason (for /metrics). */
  readonly deleted: Record<ArtifactKind, { age: number; size: number }> = Object.fromEntries(
    ARTIFACT_KINDS.map((kind) => [kind, { age: 0, size: 0 }]),
  ) as Record<ArtifactKind, { age: number; size: number }>;

  constructor(
    private readonly store: ArtifactStore,
    private readonly limits: RetentionLimits,
  ) {}

  /** The last pass's figures, undefined before the first. */
  get last(): RetentionPass | undefined {
    return this.#last;
  }

  /** One pass now; passes never overlap (a second call waits for the running one). */
  enforce(now = Date.now()): Promise<RetentionPass> {
    this.#running ??= this.#pass(now).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #pass(now: number): Promise<RetentionPass> {
    const byKind = new Map<ArtifactKind, StoredArtifact[]>(ARTIFACT_KINDS.map((kind) => [kind, []]));
    for (const artifact of await this.store.list(''))
      byKind.get(artifactKindOf(artifact.key))!.push(artifact);
    const pass: RetentionPass = {
      at: now,
      kinds: {} as RetentionPass['kinds'],
      failed: [],
    };
    for (const kind of ARTIFACT_KINDS) {
      const limit = this.limits[kind];
      const oldestFirst = byKind
        .get(kind)!
        .sort((a, b) => a.createdAt - b.createdAt || a.key.localeCompare(b.key));
      const kept: StoredArtifact[] = [];
      let deletedByAge = 0;
      let deletedBySize = 0;
      for (const artifact of oldestFirst) {
        if (now - artifact.createdAt > limit.maxAge && (await this.#delete(artifact, pass))) {
          deletedByAge++;
          this.deleted[kind].age++;
        } else kept.push(artifact);
      }
      let bytes = kept.reduce((sum, artifact) => sum + artifact.bytes, 0);
      let undeletable = 0;
      while (bytes > limit.maxBytes && kept.length > undeletable) {
        const oldest = kept[undeletable];
        if (!(await this.#delete(oldest, pass))) {
          undeletable++;
          continue;
        }
        kept.splice(undeletable, 1);
        bytes -= oldest.bytes;
        deletedBySize++;
        this.deleted[kind].size++;
      }
      pass.kinds[kind] = { files: kept.length, bytes, deletedByAge, deletedBySize };
    }
    this.#last = pass;
    return pass;
  }

  async #delete(artifact: StoredArtifact, pass: RetentionPass): Promise<boolean> {
    try {
      await this.store.delete(artifact.key);
      return true;
    } catch (error) {
      pass.failed.push({ key: artifact.key, message: (error as Error).message });
      return false;
    }
  }
}
