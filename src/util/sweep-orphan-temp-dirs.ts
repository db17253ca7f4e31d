import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processStartTime } from './process-identity.ts';
import { isOwnTempDirName, PROCESS_TEMP_DIR_PATTERN } from './process-temp-dir.ts';

/** Traces directories of pathwatch versions before the per-process temp dir. */
const LEGACY_TRACES_DIR_PATTERN = /^pathwatch-traces-(\d+)-/;

function pidIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the process that named `name` is gone. With a start time in the name, the pid
 * and start time must both match a running process (a reused pid does not keep an orphan
 * alive, and this process's own pid from an earlier life does not either); without one
 * (earlier versions), a running pid other than ours keeps it.
 */
async function ownerIsGone(name: string): Promise<boolean> {
  const match = PROCESS_TEMP_DIR_PATTERN.exec(name) ?? LEGACY_TRACES_DIR_PATTERN.exec(name);
  if (!match || isOwnTempDirName(name)) return false;
  const pid = Number(match[1]);
  const startTime = match[2];
  if (startTime !== undefined) return (await processStartTime(pid)) !== startTime;
  return pid !== process.pid && !pidIsRunning(pid);
}

/**
 * A process killed outright (SIGKILL, OOM) cannot remove its temp dir, and what is in it
 * (a Chromium profile, raw traces with cookies and typed secrets, HAR being recorded) would
 * stay on disk for good. Removes the `pathwatch-<pid>.<start>-*` directories in `dir` whose
 * owner is no longer running; returns their names.
 */
export async function sweepOrphanTempDirs(dir = tmpdir()): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const orphans: string[] = [];
  for (const name of names) if (await ownerIsGone(name)) orphans.push(name);
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
