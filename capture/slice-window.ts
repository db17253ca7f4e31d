import { setTimeout as sleep } from 'node:timers/promises';
import type { Peer } from '../src/results/run-result.ts';
import { headersOnlyLength, type PayloadMode } from './headers-only-length.ts';
import { type DecodedPacket, decodePacket, normalizeIp } from './packet-decoder.ts';
import { PcapFormatError } from './pcap-format-error.ts';
import { readPcap } from './pcap-reader.ts';
import { PcapWriter } from './pcap-writer.ts';
import { LastPacketIndex, listRingFiles, type RingFile } from './ring-files.ts';

export interface SliceWindowOptions {
  ringDir: string;
  /** Window start and end, ms since the epoch (inclusive). */
  from: number;
  to: number;
  /** Keep only flows with these peers (either direction); undefined keeps everything. */
  peers?: Peer[];
  /** Also keep DNS (udp/tcp port 53), to see the lookups that preceded the run's connections. */
  includeDns?: boolean;
  /**
   * Also keep packets this accepts (e.g. any traffic on a port, or to an address on any port).
   * With it, a packet is kept when it matches `peers`, is DNS with `includeDns`, or `match`
   * accepts it; without `peers` and `match` everything is kept, as before.
   */
  match?: (packet: DecodedPacket) => boolean;
  /** Packets this accepts are never written, whatever else matches (the API's own traffic). */
  exclude?: (packet: DecodedPacket) => boolean;
  /**
   * `headers` (default): each packet is cut after its headers (see headersOnlyLength), its
   * original length kept; `full`: packets as the ring holds them.
   */
  payload?: PayloadMode;
  outputPath: string;
}

export interface SliceResult {
  output: string;
  packets: number;
  /** Bytes read from ring files (only the files overlapping the window are opened). */
  bytesRead: number;
  filesRead: number;
  /** Bytes the ring holds in total, to compare with bytesRead. */
  ringBytes: number;
  linkType: number;
  durationMs: number;
}

/**
 * Packets captured this long after the window's end are taken as proof that the rest of the
 * file lies outside it; packets on several CPUs arrive out of order by far less.
 */
const READ_PAST_WINDOW_US = 1_000_000;

/**
 * Cuts [from, to] out of the ring into one standard pcap, reading only the ring files whose
 * packets can fall in the window, filtered to the run's peers and optionally its DNS.
 */
export async function sliceWindow(options: SliceWindowOptions): Promise<SliceResult> {
  const started = performance.now();
  const files = await listRingFiles(options.ringDir);
  const overlapping = files.filter((file) => overlaps(file, options.from, options.to));
  const linkType = overlapping[0]?.linkType ?? files[0]?.linkType ?? 1;
  const writer = await PcapWriter.create(options.outputPath, { linkType });
  const keep = packetFilter(options.peers, options.includeDns ?? false, options.match);
  const { exclude } = options;
  const headersOnly = (options.payload ?? 'headers') === 'headers';
  const fromUs = options.from * 1000;
  const toUs = options.to * 1000;
  let bytesRead = 0;
  let filesRead = 0;
  try {
    for (const file of overlapping) {
      if (file.linkType !== linkType) {
        throw new PcapFormatError(
          'PCAP_LINK_TYPE_MISMATCH',
          file.path,
          20,
          `link type ${file.linkType} differs from ${linkType} of the ring's other files in the window`,
        );
      }
      const summary = await readPcap(
        file.path,
        (record) => {
          if (record.timestampUs > toUs + READ_PAST_WINDOW_US) return false;
          if (record.timestampUs < fromUs || record.timestampUs > toUs) return undefined;
          const packet = decodePacket(linkType, record.data);
          if (keep(packet) && !exclude?.(packet)) {
            writer.write({
              timestampUs: record.timestampUs,
              data: headersOnly
                ? record.data.subarray(0, headersOnlyLength(linkType, record.data))
                : record.data,
              originalLength: record.originalLength,
            });
          }
          return undefined;
        },
        // tcpdump may be writing this file right now, or reusing it: a partial record is its tail.
        { allowTruncatedTail: true },
      ).catch((error: unknown) => {
        // The ring moved on and tcpdump truncated the file between listing and reading: nothing of the window is left in it.
        if (error instanceof PcapFormatError && error.code === 'PCAP_TRUNCATED' && error.offset < 24)
          return undefined;
        throw error;
      });
      if (!summary) continue;
      filesRead += 1;
      bytesRead += summary.bytesRead;
    }
  } finally {
    await writer.close();
  }
  return {
    output: options.outputPath,
    packets: writer.packets,
    bytesRead,
    filesRead,
    ringBytes: files.reduce((sum, file) => sum + file.bytes, 0),
    linkType,
    durationMs: performance.now() - started,
  };
}

function overlaps(file: RingFile, from: number, to: number): boolean {
  return file.firstPacketMs <= to && file.lastPacketBoundMs >= from;
}

function packetFilter(
  peers: Peer[] | undefined,
  includeDns: boolean,
  match?: (packet: DecodedPacket) => boolean,
): (packet: DecodedPacket) => boolean {
  if (!peers && !match) return () => true;
  const wanted = new Set((peers ?? []).map((peer) => `${normalizeIp(peer.ip)}|${peer.port}`));
  return (packet) => {
    if (match?.(packet)) return true;
    // An ICMP unreachable about a peer's flow is that flow's answer (a REJECT, a missing route).
    const quoted = packet.unreachable?.original;
    if (quoted?.dstPort !== undefined && wanted.has(`${quoted.dst}|${quoted.dstPort}`)) return true;
    const transport = packet.tcp ?? packet.udp;
    if (!packet.ip || !transport) return false;
    if (includeDns && (transport.srcPort === 53 || transport.dstPort === 53)) return true;
    return (
      wanted.has(`${packet.ip.src}|${transport.srcPort}`) ||
      wanted.has(`${packet.ip.dst}|${transport.dstPort}`)
    );
  };
}

export interface WaitForWindowResult {
  /** True when the ring holds a packet at or after `to`, or tcpdump has had time to flush past it. */
  ready: boolean;
  reason: 'packet-after-window' | 'flush-grace' | 'timeout';
  waitedMs: number;
  /** Newest packet time in the ring when the wait ended (ms). */
  lastPacketMs?: number;
}

export interface WaitForWindowOptions {
  /**
   * With -U tcpdump writes each packet as libpcap hands it over, and libpcap hands packets
   * over at least every 1000 ms (tcpdump's buffer timeout), so once `to` + this has passed
   * everything up to `to` is on disk even when no later packet arrives to prove it.
   */
  flushGraceMs?: number;
  pollMs?: number;
  /** Reused between calls, so polling reads only what tcpdump appended. */
  index?: LastPacketIndex;
}

/** Waits (bounded by timeoutMs) until the ring holds the window ending at `to`. */
export async function waitForWindow(
  ringDir: string,
  to: number,
  timeoutMs: number,
  options: WaitForWindowOptions = {},
): Promise<WaitForWindowResult> {
  const { flushGraceMs = 1200, pollMs = 50 } = options;
  const index = options.index ?? new LastPacketIndex();
  const started = Date.now();
  const deadline = started + timeoutMs;
  let lastPacketMs: number | undefined;
  for (;;) {
    const files = await listRingFiles(ringDir);
    const newest = files.at(-1);
    lastPacketMs = newest ? await index.lastPacketMs(newest.path) : undefined;
    const now = Date.now();
    if (lastPacketMs !== undefined && lastPacketMs >= to) {
      return { ready: true, reason: 'packet-after-window', waitedMs: now - started, lastPacketMs };
    }
    if (now >= to + flushGraceMs)
      return { ready: true, reason: 'flush-grace', waitedMs: now - started, lastPacketMs };
    if (now >= deadline) return { ready: false, reason: 'timeout', waitedMs: now - started, lastPacketMs };
    await sleep(Math.min(pollMs, Math.max(1, deadline - now)));
  }
}
