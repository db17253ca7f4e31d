import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROCESS_TEMP_DIR_PATTERN } from './process-temp-dir.ts';

/** Traces directories of pathwatch versions before the per-process temp dir. */
const LEGACY_TRACES_DIR_PATTERN = /^pathwatch-traces-(\d+)-/;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A process killed outright (SIGKILL, OOM) cannot remove its temp dir, and what is in it
 * (a Chromium profile, raw traces with cookies and typed secrets, HAR being recorded) would
 * stay on disk for good. Removes the `pathwatch-<pid>-*` directories in `dir` whose owner
 * is no longer running; returns their names.
 */
export async function sweepOrphanTempDirs(dir = tmpdir()): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const orphans = names.filter((name) => {
    const owner = (PROCESS_TEMP_DIR_PATTERN.exec(name) ?? LEGACY_TRACES_DIR_PATTERN.exec(name))?.[1];
    return owner !== undefined && Number(owner) !== process.pid && !isAlive(Number(owner));
  });
  const removed = await Promise.all(
    orphans.map((name) =>
      rm(join(dir, name), { recursive: true, force: true, maxRetries: 3 }).then(
        () => name,
        () => undefined,
      ),
    ),
  );
  return removed.filter((name): name is string => name !== undefined);
}
