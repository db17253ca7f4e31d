import type { Readable } from 'node:stream';

export interface StoredArtifact {
  key: string;
  bytes: number;
  contentType: string;
  createdAt: number;
}

/**
 * Part of an artifact, as HTTP Range asks for it: from `start` to `end` (inclusive; absent:
 * to the end), or the last `suffix` bytes. The store resolves it against the size it knows,
 * so a caller need not read the size first.
 */
export type ByteRangeRequest = { start: number; end?: number } | { suffix: number };

/** A resolved range: the first and last byte read, both inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ArtifactRead {
  stream: Readable;
  /** The whole artifact's size and type, also when only a range is read. */
  info: StoredArtifact;
  /** The bytes `stream` holds, when a range was asked for. */
  range?: ByteRange;
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
  /**
   * A stream of the artifact, or undefined when there is none. With `range`, only those bytes
   * are read (a 50 MB capture is not read whole for its last kilobyte); a range that starts
   * past the end throws ArtifactRangeError.
   */
  get(key: string, range?: ByteRangeRequest): Promise<ArtifactRead | undefined>;
  /** Artifacts whose key starts with `prefix`. */
  list(prefix: string): Promise<StoredArtifact[]>;
  delete(key: string): Promise<void>;
}

export class ArtifactKeyError extends Error {
  readonly code = 'ARTIFACT_KEY_INVALID';
}

/** A range that holds no byte of the artifact (it starts at or past its end). */
export class ArtifactRangeError extends Error {
  readonly code = 'RANGE_NOT_SATISFIABLE';
  constructor(
    readonly key: string,
    /** The artifact's size, for `Content-Range: bytes *\/size`. */
    readonly bytes: number,
  ) {
    super(`artifact ${JSON.stringify(key)} has ${bytes} bytes; the range asked for holds none of them`);
  }
}

/**
 * The bytes `request` covers in an artifact of `size` bytes (RFC 9110 §14.1.2: an end past
 * the last byte is cut to it; a suffix longer than the artifact is all of it), or undefined
 * when it covers none.
 */
export function resolveByteRange(request: ByteRangeRequest, size: number): ByteRange | undefined {
  if ('suffix' in request) {
    if (request.suffix <= 0 || size === 0) return undefined;
    return { start: Math.max(0, size - request.suffix), end: size - 1 };
  }
  if (request.start >= size || (request.end !== undefined && request.end < request.start)) return undefined;
  return { start: request.start, end: Math.min(request.end ?? size - 1, size - 1) };
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
