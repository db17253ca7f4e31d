import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactStore } from '../src/artifacts/artifact-store.ts';
import type { ParsedConfig } from '../src/config/config-schema.ts';
import { type ArtifactRef, NETWORK_ERROR_CLASSES, type RunResult } from '../src/results/run-result.ts';
import type { Logger } from '../src/util/logger.ts';
import { processTempDir } from '../src/util/process-temp-dir.ts';
import { analyzeCapture } from './analyze-capture.ts';
import type { CaptureAnalysis } from './capture-analysis.ts';
import { checkCapturePermission } from './capture-permission.ts';
import { CaptureUnavailableError } from './capture-unavailable-error.ts';
import { combineFilters, ExcludedListeners } from './excluded-listeners.ts';
import { formatAnalysis } from './format-analysis.ts';
import { RingStartError } from './ring-start-error.ts';
import { type ElsewhereOutcome, runScopeOf } from './run-scope.ts';
import { sliceWindow, waitForWindow } from './slice-window.ts';
import { type RingHealth, TcpdumpRing } from './tcpdump-ring.ts';

export type CaptureSettings = NonNullable<ParsedConfig['capture']>;

export interface CaptureAgentOptions {
  /**
   * Local TCP ports whose traffic is never captured into a slice (the API's: its requests
   * carry its tokens). More can be added once known with excludeListener().
   */
  excludePorts?: number[];
}

export interface CaptureEvidence {
  artifacts: ArtifactRef[];
  analysis: CaptureAnalysis;
  /** Ring bytes and files read for the slice, to show it read only what it needed. */
  bytesRead: number;
  filesRead: number;
  /** From the end of the window to the evidence being stored. */
  storedAfterWindowMs: number;
}

/**
 * The capture agent of one host: keeps the rolling capture and, when a run fails at the
 * network level, saves the slice around it (filtered to the run's peers and DNS) with its
 * analysis as artifacts of that run. Without the privilege to capture it says once what is
 * missing and monitoring goes on without captures.
 */
export class CaptureAgent {
  private ring: TcpdumpRing | undefined;
  private unavailableReason: string | undefined;
  private readonly pending = new Set<Promise<unknown>>();
  /** Shared with the periodic collector of this host, so both leave the API's traffic out. */
  readonly excludedListeners: ExcludedListeners;

  constructor(
    private readonly settings: CaptureSettings,
    private readonly ringDir: string,
    private readonly artifacts: ArtifactStore,
    private readonly logger: Logger,
    options: CaptureAgentOptions = {},
  ) {
    this.excludedListeners = new ExcludedListeners(options.excludePorts);
  }

  /** Leaves this local port's traffic out of every slice from now on (the API, once it listens on a port the kernel chose). */
  excludeListener(port: number): void {
    this.excludedListeners.add(port);
  }

  /** Starts the ring; resolves with the reason when capture is not possible here. */
  async start(): Promise<{ capturing: boolean; reason?: string }> {
    try {
      await checkCapturePermission();
      this.ring = new TcpdumpRing({
        dir: this.ringDir,
        interface: this.settings.interface,
        // The ports known now are left out of the ring too; ones added later only out of slices.
        filter: combineFilters(this.settings.filter, this.excludedListeners.tcpdumpExpression()),
        ringSize: this.settings.ringSize,
        fileSize: this.settings.fileSize,
        maxAge: this.settings.maxAge,
        snaplen: this.settings.snaplen,
        payload: this.settings.payload,
        bufferSize: this.settings.bufferSize,
        onEvent: (event) => {
          if (event.type === 'exited' || event.type === 'restarting' || event.type === 'write-failed')
            this.logger.warn({ event }, 'tcpdump ring');
          else if (event.type === 'orphan-killed')
            this.logger.warn({ event }, 'stopped a tcpdump left writing the ring by a pathwatch that died');
          else if (event.type === 'stale-lock-taken-over')
            this.logger.warn({ event }, 'took over the capture ring of a pathwatch that died');
        },
      });
      await this.ring.start();
      this.logger.info(
        {
          dir: this.ringDir,
          interface: this.settings.interface,
          payload: this.settings.payload,
          boundToParent: this.ring.health().boundToParent,
        },
        'packet capture ring started',
      );
      return { capturing: true };
    } catch (error) {
      this.ring = undefined;
      // No privilege, or tcpdump would not start (a wrong interface, say): monitoring goes
      // on without captures. Anything else is a bug and surfaces.
      if (!(error instanceof CaptureUnavailableError) && !(error instanceof RingStartError)) throw error;
      this.unavailableReason = error.message;
      this.logger.warn(
        { reason: this.unavailableReason },
        'packet capture unavailable; monitoring continues without captures',
      );
      return { capturing: false, reason: this.unavailableReason };
    }
  }

  health(): (RingHealth & { capturing: true }) | { capturing: false; reason?: string } {
    return this.ring
      ? { capturing: true, ...this.ring.health() }
      : { capturing: false, reason: this.unavailableReason };
  }

  /** Whether a run deserves a slice: it failed at the network level and the ring runs. */
  wants(result: RunResult): boolean {
    return (
      this.ring !== undefined &&
      result.error !== undefined &&
      NETWORK_ERROR_CLASSES.includes(result.error.class)
    );
  }

  /**
   * Saves the slice around `result` as artifacts of its run. Runs in the background of the
   * worker (the window closes `after` the run ended); stop() waits for slices in flight.
   */
  async collect(
    result: RunResult,
    options: { elsewhere?: () => Promise<ElsewhereOutcome | undefined> } = {},
  ): Promise<CaptureEvidence | undefined> {
    if (!this.wants(result)) return undefined;
    const work = this.slice(result, 'capture', false, options.elsewhere);
    this.pending.add(work);
    try {
      return await work;
    } finally {
      this.pending.delete(work);
    }
  }

  /**
   * On request (an operator, or a vendor asking for more): the window around a run, all
   * traffic the ring holds when `unfiltered`, stored beside the run's own slice.
   */
  async collectOnRequest(
    result: RunResult,
    options: { unfiltered: boolean },
  ): Promise<CaptureEvidence | undefined> {
    if (!this.ring) return undefined;
    const work = this.slice(
      result,
      options.unfiltered ? 'capture-unfiltered' : 'capture',
      options.unfiltered,
    );
    this.pending.add(work);
    try {
      return await work;
    } finally {
      this.pending.delete(work);
    }
  }

  private async slice(
    result: RunResult,
    name = 'capture',
    unfiltered = false,
    elsewhere?: () => Promise<ElsewhereOutcome | undefined>,
  ): Promise<CaptureEvidence | undefined> {
    const from = result.startedAt - this.settings.before;
    const to = result.finishedAt + this.settings.after;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, to - Date.now())));
    const ready = await waitForWindow(this.ringDir, to, 10_000);
    if (!ready.ready)
      this.logger.warn({ runId: result.runId, ready }, 'capture window not complete; slicing what is there');
    // Under the process temp dir: a killed process's half-written slice is swept with the rest.
    const workDir = await mkdtemp(join(processTempDir(), 'slice-'));
    try {
      const output = join(workDir, 'capture.pcap');
      const slice = await sliceWindow({
        ringDir: this.ringDir,
        from,
        to,
        peers: unfiltered || result.peers.length === 0 ? undefined : result.peers,
        includeDns: true,
        exclude: this.excludedListeners.matcher(),
        payload: this.settings.payload,
        outputPath: output,
      });
      // The run's own flows are diagnosed, the rest of the window is context; how the other
      // locations fared in the same slot decides between "the path" and "the target".
      const analysis = await analyzeCapture(output, runScopeOf(result, await elsewhere?.()));
      const base = `runs/${result.runId}`;
      const pcap = await this.artifacts.put(
        `${base}/${name}.pcap`,
        await readFile(output),
        'application/vnd.tcpdump.pcap',
      );
      const json = await this.artifacts.put(
        `${base}/${name}-analysis.json`,
        Buffer.from(JSON.stringify({ ...analysis, file: undefined }, null, 2)),
        'application/json',
      );
      const text = await this.artifacts.put(
        `${base}/${name}-analysis.txt`,
        Buffer.from(`${formatAnalysis({ ...analysis, file: undefined })}\n`),
        'text/plain; charset=utf-8',
      );
      return {
        artifacts: [pcap, json, text].map((stored, index) => ({
          kind: index === 0 ? 'pcap' : 'analysis',
          key: stored.key,
          bytes: stored.bytes,
          contentType: stored.contentType,
        })),
        analysis,
        bytesRead: slice.bytesRead,
        filesRead: slice.filesRead,
        storedAfterWindowMs: Date.now() - to,
      };
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  async stop(): Promise<void> {
    // Slices in flight are finished (bounded): the last failures are the ones people ask about.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 30_000);
      }),
    ]);
    clearTimeout(timer);
    await this.ring?.stop();
  }
}
