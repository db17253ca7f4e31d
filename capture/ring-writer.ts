import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { headersOnlyLength, type PayloadMode } from './headers-only-length.ts';
import {
  PCAP_GLOBAL_HEADER_BYTES,
  PCAP_RECORD_HEADER_BYTES,
  type PcapHeader,
  parsePcapHeader,
  recordCapturedLength,
} from './pcap-reader.ts';
import { RING_FILE_PREFIX } from './ring-files.ts';

export interface RingWriterOptions {
  dir: string;
  /** A file is closed and the next one begun before a packet would take it past this many bytes. */
  fileBytes: number;
  /** Files in the circle; the oldest is overwritten. */
  fileCount: number;
  /** `headers`: each packet is cut after its headers (see headersOnlyLength) before it is written. */
  payload: PayloadMode;
  /** Index of the first file written (the one after the newest file already in the ring). */
  firstIndex?: number;
  /** A write that failed in the background (a timed flush): the records it held are lost. */
  onError?: (error: Error) => void;
}

/** tcpdump's largest snaplen: a longer record means the stream is not what it claims. */
const MAX_RECORD_BYTES = 262_144;

/** Queued records are written at this many bytes, or after FLUSH_MS, whichever comes first. */
const FLUSH_BYTES = 256 * 1024;
/** Short beside a slice's wait for its window (a second or more), long beside a packet. */
const FLUSH_MS = 100;

/** Name of ring file `index`, zero-padded as tcpdump -W pads it. */
export function ringFileName(index: number, fileCount: number): string {
  return `${RING_FILE_PREFIX}${String(index).padStart(String(fileCount - 1).length, '0')}`;
}

/**
 * Writes tcpdump's pcap output (`-w -`) into the ring's files, cutting each packet to its
 * headers first unless the payload is wanted. tcpdump could write the files itself (-C, -W),
 * but then every payload it captured (an `Authorization` header sent over http:// included)
 * would sit on disk until the file is overwritten; cut here, it never reaches the disk.
 * Writes are synchronous and whole records at a time, so a reader never sees a record that
 * is half the old file and half the new.
 */
export class RingWriter {
  #pending: Buffer = Buffer.alloc(0);
  #globalHeader?: Buffer;
  #header?: PcapHeader;
  #fd?: number;
  #index: number;
  #opened = false;
  #fileWritten = 0;
  #queue: Buffer[] = [];
  #queueBytes = 0;
  #flushTimer?: NodeJS.Timeout;
  /** The stream lost its record alignment: nothing more is read from it. */
  #broken = false;
  /** Packets written, and payload bytes left out of them. */
  packets = 0;
  bytesCut = 0;

  constructor(readonly options: RingWriterOptions) {
    this.#index = options.firstIndex ?? 0;
  }

  /** A new capture stream (tcpdump started or restarted): its own header opens the next file. */
  beginStream(): void {
    this.#closeFile();
    this.#pending = Buffer.alloc(0);
    this.#header = undefined;
    this.#broken = false;
  }

  /**
   * Writes every complete record in `chunk` (with what an earlier chunk left over); a record
   * cut across chunks waits for the rest. Throws when the stream is not a pcap or a write
   * fails; the bytes of that chunk are then lost, the writer stays usable.
   */
  push(chunk: Buffer): void {
    if (this.#broken) return;
    const buffer = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    let offset = 0;
    if (!this.#header) {
      if (buffer.length < PCAP_GLOBAL_HEADER_BYTES) {
        this.#pending = Buffer.from(buffer);
        return;
      }
      this.#pending = Buffer.alloc(0);
      this.#globalHeader = Buffer.from(buffer.subarray(0, PCAP_GLOBAL_HEADER_BYTES));
      this.#header = parsePcapHeader(this.#globalHeader, 'tcpdump output', { anyLinkType: true });
      offset = PCAP_GLOBAL_HEADER_BYTES;
      this.#openNextFile();
    }
    const header = this.#header;
    const cut = this.options.payload === 'headers';
    const out: Buffer[] = [];
    let outBytes = 0;
    try {
      while (offset + PCAP_RECORD_HEADER_BYTES <= buffer.length) {
        const captured = recordCapturedLength(buffer, offset, header);
        const end = offset + PCAP_RECORD_HEADER_BYTES + captured;
        if (captured > MAX_RECORD_BYTES) {
          this.#broken = true;
          this.#write(out, outBytes);
          throw new Error(
            `tcpdump output: record of ${captured} bytes exceeds ${MAX_RECORD_BYTES}; ignoring the rest of this stream`,
          );
        }
        if (end > buffer.length) break;
        const data = buffer.subarray(offset + PCAP_RECORD_HEADER_BYTES, end);
        const keep = cut ? headersOnlyLength(header.linkType, data) : captured;
        let recordHeader = buffer.subarray(offset, offset + PCAP_RECORD_HEADER_BYTES);
        if (keep < captured) {
          recordHeader = Buffer.from(recordHeader);
          if (header.byteOrder === 'LE') recordHeader.writeUInt32LE(keep, 8);
          else recordHeader.writeUInt32BE(keep, 8);
          this.bytesCut += captured - keep;
        }
        const size = PCAP_RECORD_HEADER_BYTES + keep;
        const inFile = this.#fileWritten + outBytes;
        if (inFile > PCAP_GLOBAL_HEADER_BYTES && inFile + size > this.options.fileBytes) {
          this.#write(out, outBytes);
          out.length = 0;
          outBytes = 0;
          this.#openNextFile();
        }
        out.push(recordHeader, data.subarray(0, keep));
        outBytes += size;
        this.packets += 1;
        offset = end;
      }
      this.#write(out, outBytes);
    } finally {
      // Whatever happened, the stream stays aligned on the next record. Kept as a copy, so
      // the (possibly large) chunk it came from can be freed.
      this.#pending = this.#broken ? Buffer.alloc(0) : Buffer.from(buffer.subarray(offset));
    }
  }

  /** Closes the current file; a partial record at the end of the stream is dropped. */
  close(): void {
    this.#closeFile();
    this.#pending = Buffer.alloc(0);
  }

  #openNextFile(): void {
    this.#closeFile();
    if (this.#opened) this.#index = (this.#index + 1) % this.options.fileCount;
    this.#opened = true;
    const path = join(this.options.dir, ringFileName(this.#index, this.options.fileCount));
    this.#fd = openSync(path, 'w', 0o600);
    this.#fileWritten = 0;
    this.#write([this.#globalHeader!], PCAP_GLOBAL_HEADER_BYTES);
  }

  /**
   * Queues whole records for the current file; they reach it at FLUSH_BYTES or within
   * FLUSH_MS. tcpdump -U hands over every packet on its own, and one write per packet cost
   * more than all the cutting (bench/capture-ring.ts).
   */
  #write(parts: Buffer[], bytes: number): void {
    if (bytes === 0 || this.#fd === undefined) return;
    for (const part of parts) this.#queue.push(part);
    this.#queueBytes += bytes;
    this.#fileWritten += bytes;
    if (this.#queueBytes >= FLUSH_BYTES) this.flush();
    else if (!this.#flushTimer) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        try {
          this.flush();
        } catch (error) {
          this.options.onError?.(error as Error);
        }
      }, FLUSH_MS);
      this.#flushTimer.unref();
    }
  }

  /** Writes what is queued to the current file now. */
  flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#queueBytes === 0 || this.#fd === undefined) return;
    const buffer = this.#queue.length === 1 ? this.#queue[0] : Buffer.concat(this.#queue, this.#queueBytes);
    this.#queue = [];
    this.#queueBytes = 0;
    let done = 0;
    while (done < buffer.length) done += writeSync(this.#fd, buffer, done, buffer.length - done);
  }

  #closeFile(): void {
    if (this.#fd === undefined) return;
    try {
      this.flush();
    } finally {
      const fd = this.#fd;
      this.#fd = undefined;
      this.#queue = [];
      this.#queueBytes = 0;
      closeSync(fd);
    }
  }
}
