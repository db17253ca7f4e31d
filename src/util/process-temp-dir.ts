import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `pathwatch-<pid>-XXXXXX`: the owner's pid is in the name so that, once that process is
 * gone, anyone can tell the directory is an orphan (see sweepOrphanTempDirs).
 */
export const PROCESS_TEMP_DIR_PATTERN = /^pathwatch-(\d+)-[A-Za-z0-9]{6}$/;

let created: string | undefined;

/**
 * The one temporary directory of this process: everything pathwatch, Playwright and
 * Chromium write to "/tmp" for it lives below (browser profiles, raw traces, HAR being
 * recorded, journey work dirs). It is private to the user (0700: raw traces hold cookies
 * and typed secrets before redaction), removed when the process exits, and removed by the
 * next pathwatch process when this one was killed outright. Created on first use.
 */
export function processTempDir(): string {
  if (created) {
    // Recreated if something (tmpfiles cleanup, an operator) removed it under us.
    mkdirSync(created, { recursive: true, mode: 0o700 });
    return created;
  }
  const dir = mkdtempSync(join(tmpdir(), `pathwatch-${process.pid}-`));
  created = dir;
  process.once('exit', () => {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Exiting anyway; the next pathwatch process removes it (its owner is gone).
    }
  });
  return dir;
}
