import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PcapFormatError } from './pcap-format-error.ts';
import {
  PCAP_GLOBAL_HEADER_BYTES,
  PCAP_RECORD_HEADER_BYTES,
  type PcapHeader,
  readFirstRecord,
  recordCapturedLength,
  recordTimeUs,
} from './pcap-reader.ts';

/** The ring's files are ring.pcap0, ring.pcap1, … (zero-padded, as tcpdump -W names them). */
export const RING_FILE_PREFIX = 'ring.pcap';

/** The ring's tcpdump filter, read by tcpdump -F. */
export const RING_FILTER_FILE = 'ring.filter';

export interface RingFile {
  path: string;
  name: string;
  bytes: number;
  mtimeMs: number;
  linkType: number;
  /** Time of the first packet (ms since the epoch, µs precision). */
  firstPacketMs: number;
  /**
   * The file holds no packet later than this: the mtime (a packet is written after it is
   * captured), or the next file's first packet, whichever is earlier.
   */
  lastPacketBoundMs: number;
}

/**
 * The ring's files that hold at least one packet, oldest first (by first packet: tcpdump
 * reuses names in a circle, so names say nothing about age). Reads only 40 bytes per file.
 */
export async function listRingFiles(dir: string, prefix = RING_FILE_PREFIX): Promise<RingFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const pattern = new RegExp(`^${prefix.replace(/[.]/g, '\\.')}\\d+$`);
  const files: RingFile[] = [];
  for (const name of names.filter((entry) => pattern.test(entry))) {
    const path = join(dir, name);
    try {
      const info = await stat(path);
      const first = await readFirstRecord(path);
      if (first.firstPacketUs === undefined) continue;
      files.push({
        path,
        name,
        bytes: info.size,
        mtimeMs: info.mtimeMs,
        linkType: first.header.linkType,
        firstPacketMs: first.firstPacketUs / 1000,
        lastPacketBoundMs: info.mtimeMs,
      });
    } catch (error) {
      // A file tcpdump has just created or truncated has no header yet: not part of the ring yet.
      if (error instanceof PcapFormatError || (error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
  }
  files.sort((a, b) => a.firstPacketMs - b.firstPacketMs);
  for (let i = 0; i + 1 < files.length; i++) {
    files[i].lastPacketBoundMs = Math.min(files[i].lastPacketBoundMs, files[i + 1].firstPacketMs);
  }
  return files;
}

/** Total bytes of the ring's files, empty ones included. */
export async function ringBytes(dir: string, prefix = RING_FILE_PREFIX): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    total += await stat(join(dir, name)).then(
      (info) => info.size,
      () => 0,
    );
  }
  return total;
}

interface ScanState {
  firstPacketUs: number;
  /** Offset of the next record header not yet read. */
  offset: number;
  lastPacketUs: number;
  header: PcapHeader;
}

/**
 * Exact time of a file's last complete packet, found by walking record headers. Remembers
 * where it stopped per file, so polling the file tcpdump is writing reads only what is new.
 */
export class LastPacketIndex {
  #states = new Map<string, ScanState>();

  async lastPacketMs(path: string): Promise<number | undefined> {
    const first = await readFirstRecord(path).catch(() => undefined);
    if (first?.firstPacketUs === undefined) return undefined;
    let state = this.#states.get(path);
    // A different first packet means tcpdump reopened the file: start over.
    if (!state || state.firstPacketUs !== first.firstPacketUs) {
      state = {
        firstPacketUs: first.firstPacketUs,
        offset: PCAP_GLOBAL_HEADER_BYTES,
        lastPacketUs: first.firstPacketUs,
        header: first.header,
      };
      this.#states.set(path, state);
    }
    await scanHeaders(path, state);
    return state.lastPacketUs / 1000;
  }
}

const SCAN_CHUNK = 1 << 20;

async function scanHeaders(path: string, state: ScanState): Promise<void> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    const buffer = Buffer.alloc(SCAN_CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, SCAN_CHUNK, state.offset);
      if (bytesRead < PCAP_RECORD_HEADER_BYTES) return;
      let cursor = 0;
      while (cursor + PCAP_RECORD_HEADER_BYTES <= bytesRead) {
        const length = recordCapturedLength(buffer, cursor, state.header);
        const end = cursor + PCAP_RECORD_HEADER_BYTES + length;
        // A record whose body is not fully written yet does not count.
        if (end > bytesRead && bytesRead < SCAN_CHUNK) {
          state.offset += cursor;
          return;
        }
        if (end > bytesRead) break;
        state.lastPacketUs = recordTimeUs(buffer, cursor, state.header);
        cursor = end;
      }
      if (cursor === 0) {
        // One record larger than the chunk: skip it without its time (snaplen caps this at 256 KiB).
        const length = recordCapturedLength(buffer, 0, state.header);
        state.offset += PCAP_RECORD_HEADER_BYTES + length;
        continue;
      }
      state.offset += cursor;
      if (bytesRead < SCAN_CHUNK) return;
    }
  } finally {
    await handle.close();
  }
}
