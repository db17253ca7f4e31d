import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/**
 * A process as the kernel names it: its pid and its start time (/proc/<pid>/stat field 22, in
 * clock ticks since boot). A pid alone can be reused by an unrelated process after a crash;
 * the pair cannot.
 */
export interface ProcessIdentity {
  pid: number;
  startTime: string;
}

/**
 * Field 22 of /proc/<pid>/stat, or undefined when the process does not exist or is a zombie
 * (dead, waiting to be reaped: it writes nothing any more).
 */
export async function processStartTime(pid: number): Promise<string | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return startTimeOf(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** processStartTime() for start-up paths that cannot wait (naming this process's temp dir). */
export function processStartTimeSync(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return startTimeOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function startTimeOf(stat: string): string | undefined {
  // Field 2 (comm) is in parentheses and may hold spaces or ')': count from the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field 22 is rest[19].
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
  return rest[19];
}

export async function identify(pid: number): Promise<ProcessIdentity | undefined> {
  const startTime = await processStartTime(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

/** Whether this exact process (same pid and start time) is still running. */
export async function isAlive(identity: ProcessIdentity | undefined): Promise<boolean> {
  if (!identity) return false;
  return (await processStartTime(identity.pid)) === identity.startTime;
}

/** The process's argv from /proc/<pid>/cmdline; empty when it is gone. */
export async function processArgv(pid: number): Promise<string[]> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((part, index, all) => part !== '' || index < all.length - 1);
  } catch {
    return [];
  }
}
