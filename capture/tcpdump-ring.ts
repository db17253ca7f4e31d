import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type CapturePermission, checkCapturePermission } from './capture-permission.ts';
import { parentDeathCommand } from './parent-death-command.ts';
import { listRingFiles, RING_FILE_PREFIX, type RingFile, ringBytes } from './ring-files.ts';
import { RingLock, type RingLockEvent } from './ring-lock.ts';
import { RingStartError } from './ring-start-error.ts';

export { RingStartError } from './ring-start-error.ts';

export interface TcpdumpRingOptions {
  /** Directory of the ring files (created if missing). */
  dir: string;
  interface: string;
  /** tcpdump filter expression; empty captures everything. */
  filter?: string;
  /** Byte budget of the whole ring. */
  ringSize: number;
  /** Size of one ring file; tcpdump counts in millions of bytes, so this is rounded down to whole MB (at least 1). */
  fileSize: number;
  /** Files whose newest packet is older than this are deleted (ms). */
  maxAge: number;
  snaplen: number;
  /** Kernel capture buffer in bytes (tcpdump -B, KiB). */
  bufferSize: number;
  /** Run tcpdump inside this network namespace (`ip netns exec`). */
  netns?: string;
  tcpdumpPath?: string;
  /** Restart delays double from `initial` up to `max` (ms). */
  restartBackoff?: { initialMs: number; maxMs: number };
  /** How often files are checked against maxAge (ms); default maxAge / 4, at most 30 s. */
  pruneIntervalMs?: number;
  /** Structured events (started, exited, restarting, pruned) for the caller's logger. */
  onEvent?: (event: RingEvent) => void;
}

export type RingEvent =
  | { type: 'started'; pid: number | undefined; args: string[]; boundToParent: boolean }
  | RingLockEvent
  | { type: 'exited'; code: number | null; signal: string | null; stderr: string; dropped: number }
  | { type: 'restarting'; inMs: number; restarts: number }
  | { type: 'pruned'; file: string; ageMs: number };

export interface RingHealth {
  running: boolean;
  restarts: number;
  lastError?: string;
  /** Packets tcpdump reported as dropped by the kernel, summed over its runs. */
  dropped: number;
  /** Packets tcpdump reported as dropped by the interface, summed over its runs. */
  droppedByInterface: number;
  files: number;
  bytes: number;
  /** The ring's budget as tcpdump enforces it: files × file size. */
  budgetBytes: number;
  /** tcpdump dies with this process (setpriv --pdeathsig); false where setpriv is missing. */
  boundToParent: boolean;
}

/** tcpdump's "listening on" line arrives once the device is open; this long without it is a failure. */
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5000;
/** A run that lasted this long resets the restart backoff. */
const STABLE_RUN_MS = 30_000;

/**
 * A rolling capture: tcpdump writing a ring of files bounded by total bytes (-C × -W), pruned
 * by age, restarted with bounded backoff if it dies. Start it after checkCapturePermission,
 * or let start() throw CaptureUnavailableError.
 */
export class TcpdumpRing {
  readonly fileMegabytes: number;
  readonly fileCount: number;
  #permission?: CapturePermission;
  #child?: ChildProcess;
  #childExit?: Promise<void>;
  #stopping = false;
  #restarts = 0;
  #lastError?: string;
  #dropped = 0;
  #droppedByInterface = 0;
  #restartTimer?: NodeJS.Timeout;
  #pruneTimer?: NodeJS.Timeout;
  #backoffMs: number;
  #stats = { files: 0, bytes: 0 };
  #lock?: RingLock;
  #deathPrefix?: string[];

  constructor(readonly options: TcpdumpRingOptions) {
    this.fileMegabytes = Math.max(1, Math.floor(options.fileSize / 1_000_000));
    this.fileCount = Math.max(2, Math.floor(options.ringSize / (this.fileMegabytes * 1_000_000)));
    this.#backoffMs = options.restartBackoff?.initialMs ?? 500;
  }

  get dir(): string {
    return this.options.dir;
  }

  /**
   * The command line. -U writes each packet as it arrives (no stdio buffering), so a slice
   * can be cut ~1 s after its window instead of waiting for a 4 KiB buffer to fill; it costs
   * one write per packet. -Z root keeps tcpdump able to reopen files in a root-owned ring.
   */
  args(permission: CapturePermission | undefined = this.#permission): string[] {
    const { options } = this;
    const args = [
      '-n',
      '-U',
      '-i',
      options.interface,
      '-s',
      String(options.snaplen),
      '-B',
      String(Math.max(1, Math.ceil(options.bufferSize / 1024))),
      '-C',
      String(this.fileMegabytes),
      '-W',
      String(this.fileCount),
      '-w',
      join(options.dir, RING_FILE_PREFIX),
    ];
    if (permission?.runAsRoot !== false) args.push('-Z', 'root');
    if (options.filter?.trim()) args.push(options.filter.trim());
    return args;
  }

  /**
   * Takes the ring's lock (RingLockedError when another live pathwatch holds it; a dead
   * holder's orphaned tcpdump is stopped first), then starts tcpdump bound to this process.
   */
  async start(): Promise<void> {
    this.#permission = await checkCapturePermission({ tcpdumpPath: this.options.tcpdumpPath });
    // The ring holds packets up to the snaplen, payloads included: readable by its owner only.
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    await chmod(this.options.dir, 0o700);
    this.#lock = await RingLock.acquire(this.options.dir, this.options.onEvent);
    this.#deathPrefix = await parentDeathCommand();
    this.#stopping = false;
    try {
      await this.#spawn();
    } catch (error) {
      await this.#lock.release();
      this.#lock = undefined;
      throw error;
    }
    const interval =
      this.options.pruneIntervalMs ?? Math.min(30_000, Math.max(1000, this.options.maxAge / 4));
    this.#pruneTimer = setInterval(() => void this.prune().catch(() => {}), interval);
    this.#pruneTimer.unref();
  }

  health(): RingHealth {
    return {
      running: this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null,
      restarts: this.#restarts,
      lastError: this.#lastError,
      dropped: this.#dropped,
      droppedByInterface: this.#droppedByInterface,
      files: this.#stats.files,
      bytes: this.#stats.bytes,
      budgetBytes: this.fileCount * this.fileMegabytes * 1_000_000,
      boundToParent: this.#deathPrefix !== undefined,
    };
  }

  /** Re-reads the directory for health()'s file and byte counts; returns the files. */
  async refresh(): Promise<RingFile[]> {
    const files = await listRingFiles(this.options.dir);
    this.#stats = { files: files.length, bytes: await ringBytes(this.options.dir) };
    return files;
  }

  /** Deletes files whose newest packet is older than maxAge; never the newest file (tcpdump writes it). */
  async prune(now = Date.now()): Promise<string[]> {
    const files = await listRingFiles(this.options.dir);
    const removed: string[] = [];
    for (const file of files.slice(0, -1)) {
      const ageMs = now - file.lastPacketBoundMs;
      if (ageMs <= this.options.maxAge) continue;
      await unlink(file.path).catch(() => {});
      removed.push(file.path);
      this.options.onEvent?.({ type: 'pruned', file: file.path, ageMs });
    }
    await this.refresh();
    return removed;
  }

  /** SIGTERM, then wait for tcpdump to flush and exit (SIGKILL after 5 s). */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    clearInterval(this.#pruneTimer);
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.kill('SIGTERM');
      await this.#childExit;
      clearTimeout(killer);
    }
    await this.#lock?.release();
    this.#lock = undefined;
    await this.refresh().catch(() => {});
  }

  async #spawn(): Promise<void> {
    const permission = this.#permission!;
    const args = this.args(permission);
    const tcpdump = this.options.netns
      ? ['ip', 'netns', 'exec', this.options.netns, permission.tcpdumpPath, ...args]
      : [permission.tcpdumpPath, ...args];
    // setpriv and `ip netns exec` both exec in place: the child's pid is tcpdump's.
    const [command, ...argv] = [...(this.#deathPrefix ?? []), ...tcpdump];
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    const startedAt = Date.now();
    let stderr = '';
    let listening = false;
    let onListening: (() => void) | undefined;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      // Keep the head (the reason it failed) and the tail (the drop counts), bounded.
      stderr = (stderr + text).slice(-16_384);
      if (!listening && /listening on /.test(stderr)) {
        listening = true;
        onListening?.();
      }
    });
    this.#childExit = new Promise<void>((resolve) => {
      child.on('close', (code, signal) => {
        const counts = parseDropCounts(stderr);
        this.#dropped += counts.kernel;
        this.#droppedByInterface += counts.interface;
        const failure = failureLine(stderr);
        if (!this.#stopping || (code !== 0 && code !== null)) {
          this.#lastError = `tcpdump exited (${signal ?? `code ${code}`})${failure ? `: ${failure}` : ''}`;
        }
        this.options.onEvent?.({ type: 'exited', code, signal, stderr, dropped: counts.kernel });
        resolve();
        if (!this.#stopping && listening) this.#scheduleRestart(Date.now() - startedAt);
      });
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new RingStartError(`tcpdump ${args.join(' ')}: no "listening on" within ${START_TIMEOUT_MS} ms`),
        );
      }, START_TIMEOUT_MS);
      onListening = () => {
        clearTimeout(timer);
        resolve();
      };
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new RingStartError(`cannot run ${command}: ${error.message}`));
      });
      void this.#childExit!.then(() => {
        clearTimeout(timer);
        if (!listening) {
          reject(
            new RingStartError(
              `tcpdump ${args.join(' ')} exited before capturing: ${failureLine(stderr) ?? `exit code ${child.exitCode}`}`,
            ),
          );
        }
      });
    });
    await this.#lock?.setTcpdump(child.pid);
    this.options.onEvent?.({
      type: 'started',
      pid: child.pid,
      args,
      boundToParent: this.#deathPrefix !== undefined,
    });
  }

  #scheduleRestart(ranMs: number): void {
    const { initialMs = 500, maxMs = 30_000 } = this.options.restartBackoff ?? {};
    if (ranMs >= STABLE_RUN_MS) this.#backoffMs = initialMs;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(maxMs, this.#backoffMs * 2);
    this.#restarts += 1;
    this.options.onEvent?.({ type: 'restarting', inMs: delay, restarts: this.#restarts });
    this.#restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      this.#spawn().catch((error: Error) => {
        this.#lastError = error.message;
        if (!this.#stopping) this.#scheduleRestart(0);
      });
    }, delay);
    this.#restartTimer.unref();
  }
}

/** "N packets dropped by kernel" / "N packets dropped by interface" from tcpdump's exit report. */
export function parseDropCounts(stderr: string): { kernel: number; interface: number } {
  const kernel = /(\d+) packets? dropped by kernel/.exec(stderr);
  const iface = /(\d+) packets? dropped by interface/.exec(stderr);
  return { kernel: kernel ? Number(kernel[1]) : 0, interface: iface ? Number(iface[1]) : 0 };
}

/** tcpdump's own complaint (`tcpdump: …`), not its banner or statistics. */
function failureLine(stderr: string): string | undefined {
  return stderr
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line.startsWith('tcpdump:') && !/listening on/.test(line));
}
