import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactStore, StoredArtifact } from '../src/artifacts/artifact-store.ts';
import type { PeriodicCollection } from '../src/config/periodic-collection-schema.ts';
import type { Logger } from '../src/util/logger.ts';
import { processTempDir } from '../src/util/process-temp-dir.ts';
import { analyzeCapture } from './analyze-capture.ts';
import type { CaptureAnalysis } from './capture-analysis.ts';
import type { ExcludedListeners } from './excluded-listeners.ts';
import type { PayloadMode } from './headers-only-length.ts';
import { type DecodedPacket, normalizeIp } from './packet-decoder.ts';
import { LastPacketIndex } from './ring-files.ts';
import { sliceWindow, waitForWindow } from './slice-window.ts';

/** Artifact key prefix of a collection's captures. */
export function collectionPrefix(id: string): string {
  return `captures/${id}/`;
}

/** ISO 8601 basic format (`20250102T030405.678Z`): sorts by time, and has no colons, which keys may not hold. */
export function collectionStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '');
}

/** The packet predicate of a collection's filter, or undefined when it keeps everything. */
export function collectionMatcher(
  entry: Pick<PeriodicCollection, 'peers' | 'ports' | 'includeDns'>,
): ((packet: DecodedPacket) => boolean) | undefined {
  if (!entry.peers && !entry.ports) return undefined;
  const addresses = new Set<string>();
  const endpoints = new Set<string>();
  for (const peer of entry.peers ?? []) {
    const ip = normalizeIp(peer.ip);
    if (peer.port === undefined) addresses.add(ip);
    else endpoints.add(`${ip}|${peer.port}`);
  }
  const ports = new Set(entry.ports ?? []);
  if (entry.includeDns) ports.add(53);
  return (packet) => {
    const transport = packet.tcp ?? packet.udp;
    if (!packet.ip) return false;
    if (addresses.has(packet.ip.src) || addresses.has(packet.ip.dst)) return true;
    if (!transport) return false;
    return (
      ports.has(transport.srcPort) ||
      ports.has(transport.dstPort) ||
      endpoints.has(`${packet.ip.src}|${transport.srcPort}`) ||
      endpoints.has(`${packet.ip.dst}|${transport.dstPort}`)
    );
  };
}

export interface PeriodicCollectionResult {
  id: string;
  from: number;
  to: number;
  pcap: StoredArtifact;
  analysis: StoredArtifact;
  packets: number;
  diagnosis: string;
  /** Keys deleted by this collection's retention. */
  deleted: string[];
}

export type PeriodicCollectorEvent =
  | { type: 'collected'; result: PeriodicCollectionResult }
  | { type: 'failed'; id: string; error: Error }
  | { type: 'skipped'; id: string; reason: string };

export interface PeriodicCollectorOptions {
  ringDir: string;
  artifacts: ArtifactStore;
  entries: PeriodicCollection[];
  logger?: Logger;
  onEvent?: (event: PeriodicCollectorEvent) => void;
  /** Clock for windows and retention (ms since the epoch); defaults to Date.now. */
  now?: () => number;
  /** Tests: collect this often instead of each entry's `every`. */
  intervalMsOverride?: number;
  /** How long a collection waits for the ring to hold its window's end (default 5 s). */
  waitTimeoutMs?: number;
  /** `headers` (default): payloads cut after the headers, as in run slices; `full`: as captured. */
  payload?: PayloadMode;
  /** Local ports whose traffic is left out (the capture agent's: the API's own). */
  excludedListeners?: ExcludedListeners;
}

/**
 * Runs the periodic collections against a ring directory: each entry every `every` (the
 * first one `every` after start, when the ring holds a full window), one at a time per
 * entry. A failing collection is logged and reported, never thrown from a timer.
 */
export class PeriodicCollector {
  readonly #options: PeriodicCollectorOptions;
  readonly #now: () => number;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #running = new Map<string, Promise<PeriodicCollectionResult>>();
  readonly #indexes = new Map<string, LastPacketIndex>();

  constructor(options: PeriodicCollectorOptions) {
    const ids = options.entries.map((entry) => entry.id);
    const duplicate = ids.find((id, index) => ids.indexOf(id) !== index);
    if (duplicate) throw new Error(`periodic collection id "${duplicate}" is used twice`);
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get entries(): readonly PeriodicCollection[] {
    return this.#options.entries;
  }

  start(): void {
    for (const entry of this.#options.entries) {
      if (this.#timers.has(entry.id)) continue;
      const timer = setInterval(() => this.#tick(entry), this.#options.intervalMsOverride ?? entry.every);
      timer.unref();
      this.#timers.set(entry.id, timer);
    }
  }

  /** Stops the schedule and waits for collections in flight. */
  async stop(): Promise<void> {
    for (const timer of this.#timers.values()) clearInterval(timer);
    this.#timers.clear();
    await Promise.allSettled([...this.#running.values()]);
  }

  /**
   * Collects entry `id` now: slices the last `window`, stores pcap + analysis, applies
   * retention. A collection of the same id already running is awaited instead of doubled.
   */
  collectNow(id: string): Promise<PeriodicCollectionResult> {
    const entry = this.#options.entries.find((candidate) => candidate.id === id);
    if (!entry) return Promise.reject(new Error(`no periodic collection with id "${id}"`));
    const running = this.#running.get(id);
    if (running) return running;
    const work = this.#collect(entry).finally(() => this.#running.delete(id));
    this.#running.set(id, work);
    return work;
  }

  /** Deletes entry `id`'s artifacts stored more than `keep` ago; returns their keys. */
  async applyRetention(entry: PeriodicCollection): Promise<string[]> {
    const cutoff = this.#now() - entry.keep;
    const stored = await this.#options.artifacts.list(collectionPrefix(entry.id));
    const old = stored.filter((artifact) => artifact.createdAt < cutoff);
    for (const artifact of old) await this.#options.artifacts.delete(artifact.key);
    return old.map((artifact) => artifact.key);
  }

  #tick(entry: PeriodicCollection): void {
    if (this.#running.has(entry.id)) {
      const reason = 'the previous collection is still running';
      this.#options.logger?.warn({ collection: entry.id }, `periodic capture skipped: ${reason}`);
      this.#options.onEvent?.({ type: 'skipped', id: entry.id, reason });
      return;
    }
    this.collectNow(entry.id).catch(() => {
      // reported in #collect
    });
  }

  async #collect(entry: PeriodicCollection): Promise<PeriodicCollectionResult> {
    const { artifacts, ringDir, logger, onEvent } = this.#options;
    const to = this.#now();
    const from = to - entry.window;
    let workDir: string | undefined;
    try {
      let index = this.#indexes.get(entry.id);
      if (!index) {
        index = new LastPacketIndex();
        this.#indexes.set(entry.id, index);
      }
      const ready = await waitForWindow(ringDir, to, this.#options.waitTimeoutMs ?? 5000, { index });
      if (!ready.ready)
        logger?.warn({ collection: entry.id, ready }, 'capture window not complete; slicing what is there');
      // Under the process temp dir: a killed process's half-written collection is swept too.
      workDir = await mkdtemp(join(processTempDir(), 'collect-'));
      const output = join(workDir, 'capture.pcap');
      const slice = await sliceWindow({
        ringDir,
        from,
        to,
        match: collectionMatcher(entry),
        exclude: this.#options.excludedListeners?.matcher(),
        payload: this.#options.payload ?? 'headers',
        outputPath: output,
      });
      const analysis: CaptureAnalysis = { ...(await analyzeCapture(output)), file: undefined };
      const base = `${collectionPrefix(entry.id)}${collectionStamp(to)}`;
      const pcap = await artifacts.put(
        `${base}.pcap`,
        await readFile(output),
        'application/vnd.tcpdump.pcap',
      );
      const json = await artifacts.put(
        `${base}.analysis.json`,
        Buffer.from(JSON.stringify({ collection: entry.id, from, to, ...analysis }, null, 2)),
        'application/json',
      );
      const deleted = await this.applyRetention(entry);
      const result: PeriodicCollectionResult = {
        id: entry.id,
        from,
        to,
        pcap,
        analysis: json,
        packets: slice.packets,
        diagnosis: analysis.diagnosis,
        deleted,
      };
      logger?.info(
        { collection: entry.id, key: pcap.key, packets: slice.packets, bytesRead: slice.bytesRead, deleted },
        'periodic capture stored',
      );
      onEvent?.({ type: 'collected', result });
      return result;
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      error.message = `periodic capture "${entry.id}": ${error.message}`;
      logger?.error({ collection: entry.id, err: error }, 'periodic capture failed');
      onEvent?.({ type: 'failed', id: entry.id, error });
      throw error;
    } finally {
      if (workDir) await rm(workDir, { recursive: true, force: true });
    }
  }
}
