import type { Readable } from 'node:stream';

export interface StoredArtifact {
  key: string;
  bytes: number;
  contentType: string;
  createdAt: number;
}

/**
 * Where evidence (traces, screenshots, HAR, packet captures) lives. Workers and the API may
 * run on different hosts, so nothing outside an implementation of this interface may
 * assume an artifact is a file on its own disk: on one host a shared directory, across
 * hosts an S3-compatible store behind the same four calls.
 */
export interface ArtifactStore {
  /** Stores `data` under `key` (e.g. `runs/<runId>/trace.zip`); overwrites. */
  put(key: string, data: Buffer | Readable, contentType: string): Promise<StoredArtifact>;
  /** A stream of the artifact, or undefined when there is none. */
  get(key: string): Promise<{ stream: Readable; info: StoredArtifact } | undefined>;
  /** Artifacts whose key starts with `prefix`. */
  list(prefix: string): Promise<StoredArtifact[]>;
  delete(key: string): Promise<void>;
}

export class ArtifactKeyError extends Error {
  readonly code = 'ARTIFACT_KEY_INVALID';
}

/** Keys are relative, slash-separated, without `..`: they become paths or object names. */
export function assertValidKey(key: string): void {
  if (
    !/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(key) ||
    key.split('/').includes('..')
  ) {
    throw new ArtifactKeyError(`invalid artifact key ${JSON.stringify(key)}`);
  }
}
