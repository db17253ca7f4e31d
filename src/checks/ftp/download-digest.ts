import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { AssertionResult } from '../../results/run-result.ts';

/** Content kept for `contains`; the rest is only hashed and counted. */
export const KEPT_CONTENT_LIMIT = 1024 * 1024;

/** Where a download goes: counted, hashed, and its head kept, never written to disk. */
export class DownloadDigest extends Writable {
  bytes = 0;
  private readonly hash = createHash('sha256');
  private readonly kept: Buffer[] = [];
  private keptBytes = 0;
  private digest: string | undefined;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    if (this.keptBytes < KEPT_CONTENT_LIMIT) {
      const slice = chunk.subarray(0, KEPT_CONTENT_LIMIT - this.keptBytes);
      this.kept.push(slice);
      this.keptBytes += slice.length;
    }
    callback();
  }

  /** Hex SHA-256 of everything written; call once the download has finished. */
  sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }

  /** The first 1 MiB. */
  head(): Buffer {
    return Buffer.concat(this.kept);
  }
}

export interface RetrieveExpectations {
  path: string;
  size?: number;
  sha256?: string;
  contains?: string;
}

/** One result per configured expectation, plus the one-line reason of the first that failed. */
export function evaluateDownload(
  expectations: RetrieveExpectations,
  digest: DownloadDigest,
): { assertions: AssertionResult[]; failure?: string } {
  const assertions: AssertionResult[] = [];
  const reasons: string[] = [];
  const { path } = expectations;
  if (expectations.size !== undefined) {
    const ok = digest.bytes === expectations.size;
    assertions.push({ name: `size of ${path}`, ok, expected: expectations.size, actual: digest.bytes });
    if (!ok) reasons.push(`size expected ${expectations.size} bytes, got ${digest.bytes} bytes`);
  }
  if (expectations.sha256 !== undefined) {
    const actual = digest.sha256();
    const ok = actual === expectations.sha256;
    assertions.push({ name: `sha256 of ${path}`, ok, expected: expectations.sha256, actual });
    if (!ok)
      reasons.push(`sha256 expected ${expectations.sha256.slice(0, 12)}…, got ${actual.slice(0, 12)}…`);
  }
  if (expectations.contains !== undefined) {
    const ok = digest.head().includes(Buffer.from(expectations.contains, 'utf8'));
    const scope =
      digest.bytes > KEPT_CONTENT_LIMIT
        ? `the first 1 MiB of ${digest.bytes} bytes`
        : `${digest.bytes} bytes`;
    assertions.push({
      name: `${path} contains ${JSON.stringify(expectations.contains)}`,
      ok,
      expected: expectations.contains,
      actual: ok ? 'found' : `not found in ${scope}`,
    });
    if (!ok)
      reasons.push(
        `expected content containing ${JSON.stringify(expectations.contains)}, not found in ${scope}`,
      );
  }
  return { assertions, failure: reasons.length > 0 ? `RETR ${path}: ${reasons[0]}` : undefined };
}
