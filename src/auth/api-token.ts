import { createHash, randomBytes } from 'node:crypto';

/** Prefix of every token pathwatch makes: a leaked one is recognisable (secret scanners, logs). */
export const TOKEN_PREFIX = 'pwt_';
/** Random bytes in a token: 256 bits, so a fast hash is enough to store it (no guessing). */
const TOKEN_BYTES = 32;
const HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** How a token is kept in the config: `sha256:<hex>`, never the token itself. */
export function hashApiToken(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

/** A new random token and the hash to write in the config (`pathwatch token create`). */
export function createApiToken(): { token: string; hash: string } {
  const token = `${TOKEN_PREFIX}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
  return { token, hash: hashApiToken(token) };
}

/** Whether `value` is a token hash as the config holds them. */
export function isApiTokenHash(value: string): boolean {
  return HASH_PATTERN.test(value);
}
