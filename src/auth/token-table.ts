import { timingSafeEqual } from 'node:crypto';
import { type ApiRole, UPLOAD_ROLE } from './api-role.ts';
import { hashApiToken } from './api-token.ts';

export interface ApiTokenEntry {
  /** Who holds it, for logs and audit lines (never the token). */
  name: string;
  /** `sha256:<hex>` of the token. */
  hash: string;
  role: ApiRole;
}

/**
 * The configured tokens, looked up by the hash of what a request presents. Every entry is
 * compared, in constant time, whatever matched: how long a lookup takes says nothing about
 * which token, or how much of one, was right.
 */
export class TokenTable {
  readonly #entries: Array<ApiTokenEntry & { digest: Buffer }>;

  constructor(entries: ApiTokenEntry[]) {
    this.#entries = entries.map((entry) => ({ ...entry, digest: Buffer.from(entry.hash, 'utf8') }));
  }

  get size(): number {
    return this.#entries.length;
  }

  /**
   * Tokens that may read (every role but the upload role). None: the API is open to readers,
   * as with no token at all; a worker's upload token alone does not close it.
   */
  get readers(): number {
    return this.#entries.filter((entry) => entry.role !== UPLOAD_ROLE).length;
  }

  /** The entry of that name (a console session names its token), or undefined. */
  named(name: string): ApiTokenEntry | undefined {
    const entry = this.#entries.find((candidate) => candidate.name === name);
    return entry && { name: entry.name, hash: entry.hash, role: entry.role };
  }

  /** The entry whose hash is the token's, or undefined. */
  identify(token: string): ApiTokenEntry | undefined {
    const presented = Buffer.from(hashApiToken(token), 'utf8');
    let found: ApiTokenEntry | undefined;
    for (const entry of this.#entries) {
      const same = entry.digest.length === presented.length && timingSafeEqual(entry.digest, presented);
      if (same && !found) found = { name: entry.name, hash: entry.hash, role: entry.role };
    }
    return found;
  }
}
