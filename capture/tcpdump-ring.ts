import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CapturePermission, checkCapturePermission } from './capture-permission.ts';
import type { PayloadMode } from './headers-only-length.ts';
import { parentDeathCommand } from './parent-death-command.ts';
import { listRingFiles, RING_FILE_PREFIX, RING_FILTER_FILE, type RingFile, ringBytes } from './ring-files.ts';
import { RingLock, type RingLockEvent } from './ring-lock.ts';
import { RingStartError } from './ring-start-error.ts';
import { RingWriter, ringFileName } from './ring-writer.ts';

export { RingStartError } from './ring-start-error.ts';

export interface TcpdumpRingOptions {
  /** Directory of the ring files (created if missing). */
  dir: string;
  interface: string;
  /** tcpdump filter expression; empty captures everything. */
  filter?: string;
  /** Byte budget of the whole ring. */
  ringSize: number;
  /** Size of one ring file in bytes (at least 64 KiB). */
  fileSize: number;
  /** Files whose newest packet is older than this are deleted (ms). */
  maxAge: number;
  snaplen: number;
  /**
   * `headers` (the default): each packet is cut after its headers before it is written, so
   * the ring never holds payloads (see headersOnlyLength). `full`: packets as captured.
   * @defaultValue 'headers'
   */
  payload?: PayloadMode;
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
  | { type: 'pruned'; file: string; ageMs: number }
  | { type: 'write-failed'; message: string };

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
/** Smallest ring file: a full-size packet (snaplen 256 KiB) still fits in a few. */
const MIN_FILE_BYTES = 65_536;
/** A run that lasted this long resets the restart backoff. */
const STABLE_RUN_MS = 30_000;

/**
 * A rolling capture: tcpdump writing a ring of files bounded by total bytes (-C × -W), pruned
 * by age, restarted with bounded backoff if it dies. Start it after checkCapturePermission,
 * or let start() throw CaptureUnavailableError.
 */
export class TcpdumpRing {
  readonly fileBytes: number;
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
  #writer?: RingWriter;

  constructor(readonly options: TcpdumpRingOptions) {
    this.fileBytes = Math.max(MIN_FILE_BYTES, Math.floor(options.fileSize));
    this.fileCount = Math.max(2, Math.floor(options.ringSize / this.fileBytes));
    this.#backoffMs = options.restartBackoff?.initialMs ?? 500;
  }

  get dir(): string {
    return this.options.dir;
  }

  /**
   * The command line. tcpdump writes pcap to its stdout (`-w -`) and this process writes the
   * ring files (RingWriter), cutting payloads first. -U hands over each packet as it arrives
   * (no stdio buffering), so a slice can be cut ~1 s after its window instead of waiting for
   * a 4 KiB buffer to fill. The filter comes from `<dir>/ring.filter` (-F): no quoting
   * trouble, and the ring directory stays in the command line, which is how an orphaned
   * writer of this ring is recognised (findRingWriters). -Z root keeps tcpdump from dropping
   * to a user that could not read the owner-only ring directory.
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
      '-w',
      '-',
      '-F',
      join(options.dir, RING_FILTER_FILE),
    ];
    if (permission?.runAsRoot !== false) args.push('-Z', 'root');
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
      await writeFile(join(this.options.dir, RING_FILTER_FILE), `${this.options.filter?.trim() ?? ''}\n`, {
        mode: 0o600,
      });
      this.#writer = new RingWriter({
        dir: this.options.dir,
        fileBytes: this.fileBytes,
        fileCount: this.fileCount,
        payload: this.options.payload ?? 'headers',
        firstIndex: await this.#firstIndex(),
        onError: (error) => {
          this.#lastError = `ring write failed: ${error.message}`;
          this.options.onEvent?.({ type: 'write-failed', message: this.#lastError });
        },
      });
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

  /**
   * The file after the newest one already in the ring, so a restart keeps the history; files
   * this ring's size no longer names (the config shrank it) are deleted, keeping the budget.
   */
  async #firstIndex(): Promise<number> {
    const files = await listRingFiles(this.options.dir);
    const names = new Map(
      Array.from({ length: this.fileCount }, (_, index) => [ringFileName(index, this.fileCount), index]),
    );
    for (const name of await readdir(this.options.dir)) {
      if (name.startsWith(RING_FILE_PREFIX) && /\d$/.test(name) && !names.has(name))
        await unlink(join(this.options.dir, name)).catch(() => {});
    }
    const newest = files.filter((file) => names.has(file.name)).at(-1);
    return newest ? (names.get(newest.name)! + 1) % this.fileCount : 0;
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
      budgetBytes: this.fileCount * this.fileBytes,
      boundToParent: this.#deathPrefix !== undefined,
    };
  }

  /** Re-reads the directory for health()'s file and byte counts; returns the files. */
  async refresh(): Promise<RingFile[]> {
    const files = await listRingFiles(this.options.dir);
    this.#stats = { files: files.length, bytes: await ringBytes(this.options.dir) };
    return files;
  }

  /** Deletes files whose newest packet is older than maxAge; never the newest file (being written). */
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
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const writer = this.#writer!;
    writer.beginStream();
    child.stdout!.on('data', (chunk: Buffer) => {
      try {
        writer.push(chunk);
      } catch (error) {
        this.#lastError = `ring write failed: ${(error as Error).message}`;
        this.options.onEvent?.({ type: 'write-failed', message: this.#lastError });
      }
    });
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
        // Every byte tcpdump wrote has been handed over by now ('close' follows stdout's end).
        writer.close();
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
