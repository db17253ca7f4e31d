import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { processStartTimeSync } from './process-identity.ts';

/**
 * `pathwatch-<pid>.<start time>-XXXXXX`: the owner's identity is in the name so that, once
 * that process is gone, anyone can tell the directory is an orphan (see
 * sweepOrphanTempDirs). The start time (/proc/<pid>/stat field 22) tells a reused pid
 * apart: in a container pathwatch is pid 1 on every start, and a pid alone would make a
 * killed predecessor's directory look like its own. Names without it are from earlier
 * versions.
 */
export const PROCESS_TEMP_DIR_PATTERN = /^pathwatch-(\d+)(?:\.(\d+))?-[A-Za-z0-9]{6}$/;

/** The name prefix of this process's temp dir. */
export function processTempDirPrefix(): string {
  const startTime = processStartTimeSync(process.pid);
  return `pathwatch-${process.pid}${startTime === undefined ? '' : `.${startTime}`}-`;
}

let created: string | undefined;

/** Whether `name` is this process's own temp dir (never an orphan, whatever its form). */
export function isOwnTempDirName(name: string): boolean {
  return created !== undefined && basename(created) === name;
}

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
  const dir = mkdtempSync(join(tmpdir(), processTempDirPrefix()));
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
