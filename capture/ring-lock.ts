import { randomBytes } from 'node:crypto';
import { link, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { identify, isAlive, type ProcessIdentity, processArgv } from '../src/util/process-identity.ts';
import { RING_FILE_PREFIX, RING_FILTER_FILE } from './ring-files.ts';
import { RingLockedError } from './ring-locked-error.ts';

export const RING_LOCK_FILE = 'ring.lock';

/** What the lock file holds (JSON): who writes the ring, and through which tcpdump. */
export interface RingLockContent {
  owner: ProcessIdentity;
  tcpdump?: ProcessIdentity;
  host: string;
  since: string;
}

export type RingLockEvent =
  | { type: 'stale-lock-taken-over'; dir: string; previous: RingLockContent | undefined }
  | { type: 'orphan-killed'; dir: string; pid: number; signal: 'SIGTERM' | 'SIGKILL' };

const ORPHAN_TERM_WAIT_MS = 3000;
const ORPHAN_KILL_WAIT_MS = 2000;
const ACQUIRE_ATTEMPTS = 3;
const UNREADABLE_LOCK_GRACE_MS = 10_000;

async function ageMs(file: string): Promise<number> {
  const info = await stat(file).catch(() => undefined);
  return info ? Date.now() - info.mtimeMs : Number.POSITIVE_INFINITY;
}

/**
 * The one-writer guard of a ring directory. Two tcpdumps writing the same ring files
 * interleave records and corrupt them, so a ring is written by exactly one pathwatch: the
 * holder of `<dir>/ring.lock`. A live holder makes acquire() throw RingLockedError; a dead
 * one's lock is taken over after its orphaned tcpdump (if any) is stopped.
 */
export class RingLock {
  readonly file: string;
  #content: RingLockContent;

  private constructor(
    readonly dir: string,
    content: RingLockContent,
  ) {
    this.file = join(dir, RING_LOCK_FILE);
    this.#content = content;
  }

  get content(): RingLockContent {
    return this.#content;
  }

  static async acquire(dir: string, onEvent?: (event: RingLockEvent) => void): Promise<RingLock> {
    const file = join(dir, RING_LOCK_FILE);
    const self = await identify(process.pid);
    if (!self) throw new Error(`cannot read /proc/${process.pid}/stat: ring locks need Linux /proc`);
    for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
      const content: RingLockContent = { owner: self, host: hostname(), since: new Date().toISOString() };
      // Written whole under a private name, then linked into place: link() fails if a lock
      // exists, and a reader never sees a half-written lock (which would look stale).
      const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temp, `${JSON.stringify(content)}\n`, { mode: 0o600 });
      try {
        await link(temp, file);
        // No holder, or a stale one: a tcpdump still writing here has no live owner.
        await killOrphanWriters(dir, onEvent);
        return new RingLock(dir, content);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        await unlink(temp).catch(() => {});
      }
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) continue; // released meanwhile: try again
      const previous = parseLock(text);
      // Another host's pid means nothing in our /proc (a ring dir on a shared volume): its
      // lock is never judged stale from here.
      if (previous && (previous.host !== hostname() || (await isAlive(previous.owner)))) {
        throw new RingLockedError(dir, previous);
      }
      // A lock nobody can read (not written by this version, or damaged) is taken over only
      // once it has sat untouched for a while: a writer of another kind may be mid-write.
      if (!previous && (await ageMs(file)) < UNREADABLE_LOCK_GRACE_MS) {
        throw new RingLockedError(dir, undefined);
      }
      await killOrphanWriters(dir, onEvent);
      // Remove the stale lock only if it is still the one we judged (another taker may have won).
      if ((await readFile(file, 'utf8').catch(() => undefined)) === text) {
        await unlink(file).catch(() => {});
        onEvent?.({ type: 'stale-lock-taken-over', dir, previous });
      }
    }
    const holder = parseLock((await readFile(file, 'utf8').catch(() => '')) ?? '');
    throw new RingLockedError(dir, holder);
  }

  /** Records the tcpdump now writing the ring, so a successor can stop it if we die. */
  async setTcpdump(pid: number | undefined): Promise<void> {
    const tcpdump = pid === undefined ? undefined : await identify(pid);
    const next = { ...this.#content, tcpdump };
    if (!(await this.#stillOurs())) return;
    const temp = `${this.file}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(next)}\n`, { mode: 0o600 });
    await rename(temp, this.file);
    this.#content = next;
  }

  /** Deletes the lock if it is still ours. */
  async release(): Promise<void> {
    if (await this.#stillOurs()) await unlink(this.file).catch(() => {});
  }

  async #stillOurs(): Promise<boolean> {
    const current = parseLock((await readFile(this.file, 'utf8').catch(() => '')) ?? '');
    return (
      current?.owner.pid === this.#content.owner.pid &&
      current.owner.startTime === this.#content.owner.startTime
    );
  }
}

function parseLock(text: string): RingLockContent | undefined {
  try {
    const value = JSON.parse(text) as RingLockContent;
    if (typeof value?.owner?.pid !== 'number' || typeof value.owner.startTime !== 'string') return undefined;
    return value;
  } catch {
    return undefined;
  }
}

/**
 * tcpdumps feeding or writing this ring (by their command line: `tcpdump … -F <dir>/ring.filter`
 * as pathwatch runs it, or `tcpdump … -w <dir>/ring.pcap` writing the files itself), found
 * in /proc, so that an orphan is recognised even when the dead owner never recorded its pid,
 * and a reused pid of an unrelated process is never taken for one.
 */
export async function findRingWriters(dir: string): Promise<number[]> {
  const targets = [join(resolve(dir), RING_FILE_PREFIX), join(resolve(dir), RING_FILTER_FILE)];
  const pids: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const argv = await processArgv(pid);
    if (isRingWriter(argv, targets)) pids.push(pid);
  }
  return pids;
}

function isRingWriter(argv: string[], targets: string[]): boolean {
  if (argv.length === 0 || basename(argv[0]) !== 'tcpdump') return false;
  for (let index = 1; index < argv.length; index++) {
    const arg = argv[index];
    for (const flag of ['-w', '-F']) {
      const path = arg === flag ? argv[index + 1] : arg.startsWith(flag) ? arg.slice(2) : undefined;
      if (path !== undefined && path !== '-' && targets.includes(resolve(path))) return true;
    }
  }
  return false;
}

/**
 * Stops every tcpdump writing this ring. Called only by the new lock holder: with the owner
 * dead (or no lock at all), any writer is an orphan. Found by command line rather than by the
 * pid in the lock, which may since belong to an unrelated process.
 */
async function killOrphanWriters(dir: string, onEvent?: (event: RingLockEvent) => void): Promise<void> {
  for (const pid of await findRingWriters(dir)) {
    const identity = await identify(pid);
    if (!identity) continue;
    await stopProcess(identity, dir, onEvent);
  }
}

async function stopProcess(
  identity: ProcessIdentity,
  dir: string,
  onEvent?: (event: RingLockEvent) => void,
): Promise<void> {
  for (const [signal, waitMs] of [
    ['SIGTERM', ORPHAN_TERM_WAIT_MS],
    ['SIGKILL', ORPHAN_KILL_WAIT_MS],
  ] as const) {
    try {
      process.kill(identity.pid, signal);
    } catch {
      return; // gone already
    }
    onEvent?.({ type: 'orphan-killed', dir, pid: identity.pid, signal });
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (!(await isAlive(identity))) return;
      await sleep(25);
    }
  }
}
