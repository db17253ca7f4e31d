import { type FileHandle, open } from 'node:fs/promises';
import { PCAP_GLOBAL_HEADER_BYTES, PCAP_RECORD_HEADER_BYTES } from './pcap-reader.ts';

export interface PcapWriterOptions {
  linkType: number;
  /** Written in the header; records longer than this are cut to it. */
  snaplen?: number;
}

export interface PcapPacketToWrite {
  timestampUs: number;
  data: Buffer;
  /** Length on the wire; defaults to data.length. */
  originalLength?: number;
}

/** Buffered writes are flushed in chunks of about this size. */
const FLUSH_BYTES = 1 << 20;

/**
 * Writes a classic little-endian microsecond pcap (magic a1b2c3d4, version 2.4): the format
 * every tool (tcpdump, Wireshark, vendors' analysers) reads, whatever the source was.
 */
export class PcapWriter {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #packets = 0;
  #bytes = 0;
  #pending: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    readonly options: Required<PcapWriterOptions>,
    private readonly handle: FileHandle,
  ) {}

  static async create(file: string, options: PcapWriterOptions): Promise<PcapWriter> {
    const handle = await open(file, 'w');
    const writer = new PcapWriter(file, { snaplen: 262_144, ...options }, handle);
    writer.#push(globalHeader(writer.options));
    return writer;
  }

  get packets(): number {
    return this.#packets;
  }

  /** Bytes written so far, headers included. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Queues one packet (synchronous, so it can be called from a pcap-parser callback); large
   * buffers are written in the background. Call `close()` to be sure all is on disk.
   */
  write(packet: PcapPacketToWrite): void {
    const data =
      packet.data.length > this.options.snaplen ? packet.data.subarray(0, this.options.snaplen) : packet.data;
    const record = Buffer.alloc(PCAP_RECORD_HEADER_BYTES);
    const seconds = Math.floor(packet.timestampUs / 1_000_000);
    record.writeUInt32LE(seconds, 0);
    record.writeUInt32LE(packet.timestampUs - seconds * 1_000_000, 4);
    record.writeUInt32LE(data.length, 8);
    record.writeUInt32LE(packet.originalLength ?? packet.data.length, 12);
    this.#push(record);
    // Copied: the caller's buffer may be a view into a chunk that pcap-parser reuses.
    this.#push(Buffer.from(data));
    this.#packets += 1;
    if (this.#buffered >= FLUSH_BYTES) void this.flush().catch(() => {});
  }

  /** Writes what is queued; writes happen in order, and a failure is reported by `close()`. */
  flush(): Promise<void> {
    if (this.#chunks.length > 0) {
      const chunk = Buffer.concat(this.#chunks);
      this.#chunks = [];
      this.#buffered = 0;
      this.#pending = this.#pending.then(async () => {
        await this.handle.write(chunk);
      });
    }
    return this.#pending;
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.handle.close();
    }
  }

  #push(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    this.#bytes += chunk.length;
  }
}

function globalHeader(options: Required<PcapWriterOptions>): Buffer {
  const header = Buffer.alloc(PCAP_GLOBAL_HEADER_BYTES);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeInt32LE(0, 8); // thiszone: timestamps are UTC
  header.writeUInt32LE(0, 12); // sigfigs
  header.writeUInt32LE(options.snaplen, 16);
  header.writeUInt32LE(options.linkType, 20);
  return header;
}
