import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LoadedConfig } from '../config/load-config.ts';

/** Shortest configured key: HMAC-SHA256 wants 256 bits of secret. */
const MIN_KEY_LENGTH = 32;

export class LinkKeyError extends Error {
  readonly code = 'LINK_KEY_INVALID';
}

/**
 * The key that signs links to a run's evidence: `api.linkKey` when set (every API process of
 * an installation must share it), else one made on first use and kept in
 * `<dataDir>/link-key` (owner-only), so links in mails outlive a restart.
 */
export async function loadLinkKey(config: LoadedConfig): Promise<Buffer> {
  const reference = config.settings.api.linkKey;
  if (reference !== undefined) {
    const value = config.secrets.interpolate(reference);
    if (value.length < MIN_KEY_LENGTH)
      throw new LinkKeyError(
        `api.linkKey: the key is ${value.length} characters; use at least ${MIN_KEY_LENGTH} random ones`,
      );
    return Buffer.from(value, 'utf8');
  }
  const file = join(config.dataDir, 'link-key');
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing !== undefined && /^[0-9a-f]{64}$/.test(existing.trim()))
    return Buffer.from(existing.trim(), 'hex');
  await mkdir(dirname(file), { recursive: true });
  const made = randomBytes(32).toString('hex');
  // `wx`: of two processes starting at once, one writes and the other reads what it wrote.
  const wrote = await writeFile(file, `${made}\n`, { mode: 0o600, flag: 'wx' }).then(
    () => true,
    () => false,
  );
  if (!wrote) {
    const other = (await readFile(file, 'utf8')).trim();
    if (!/^[0-9a-f]{64}$/.test(other))
      throw new LinkKeyError(`${file} does not hold a link key (64 hex digits); delete it to make a new one`);
    return Buffer.from(other, 'hex');
  }
  await chmod(file, 0o600);
  return Buffer.from(made, 'hex');
}
