import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import pcapParser from 'pcap-parser';
import { linkTypeName, SUPPORTED_LINK_TYPES } from './link-types.ts';
import { PcapFormatError } from './pcap-format-error.ts';

export const PCAP_GLOBAL_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;

/** Above this a record's captured length is corruption, not a packet (tcpdump's own limit). */
const MAX_RECORD_BYTES = 262_144;

const MAGIC_MICROS = 0xa1b2c3d4;
const MAGIC_NANOS = 0xa1b23c4d;
const MAGIC_PCAPNG = 0x0a0d0d0a;

export interface PcapHeader {
  byteOrder: 'LE' | 'BE';
  /** Sub-second unit of record timestamps. */
  precision: 'us' | 'ns';
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linkType: number;
}

export interface PcapRecord {
  /** Capture time in microseconds since the epoch (nanosecond files are rounded down). */
  timestampUs: number;
  capturedLength: number;
  originalLength: number;
  data: Buffer;
  /** Byte offset of the record header in the file. */
  offset: number;
}

export interface ReadPcapOptions {
  /**
   * Accept a partial last record and stop there. Ring files being written by tcpdump end
   * mid-record; anywhere else a partial record is a truncated file and an error.
   */
  allowTruncatedTail?: boolean;
  /** Accept any link type (for copying); by default only the decoder's link types are read. */
  anyLinkType?: boolean;
}

export interface ReadPcapSummary {
  file: string;
  header: PcapHeader;
  packets: number;
  /** Bytes read from the file, headers included. */
  bytesRead: number;
  /** The file ended inside a record (only when allowTruncatedTail). */
  truncatedTail: boolean;
  /** The callback asked to stop before the end. */
  stoppedEarly: boolean;
}

/** `false` stops reading (the rest of the file is not read). */
export type PacketCallback = (record: PcapRecord, header: PcapHeader) => boolean | undefined;

/**
 * Parses the 24-byte global header. We do this ourselves (pcap-parser only knows classic
 * microsecond files) so nanosecond files, both byte orders, pcapng and link types get a
 * precise answer before any record is read.
 */
export function parsePcapHeader(buffer: Buffer, file: string, options: ReadPcapOptions = {}): PcapHeader {
  if (buffer.length < PCAP_GLOBAL_HEADER_BYTES) {
    throw new PcapFormatError(
      'PCAP_TRUNCATED',
      file,
      buffer.length,
      `truncated global header: ${buffer.length} of ${PCAP_GLOBAL_HEADER_BYTES} bytes`,
    );
  }
  const little = buffer.readUInt32LE(0);
  const big = buffer.readUInt32BE(0);
  let byteOrder: 'LE' | 'BE';
  let precision: 'us' | 'ns';
  if (little === MAGIC_MICROS || little === MAGIC_NANOS) {
    byteOrder = 'LE';
    precision = little === MAGIC_MICROS ? 'us' : 'ns';
  } else if (big === MAGIC_MICROS || big === MAGIC_NANOS) {
    byteOrder = 'BE';
    precision = big === MAGIC_MICROS ? 'us' : 'ns';
  } else if (big === MAGIC_PCAPNG) {
    throw new PcapFormatError(
      'PCAP_BAD_MAGIC',
      file,
      0,
      'pcapng is not supported: convert it with `editcap -F pcap <in> <out>`',
    );
  } else {
    throw new PcapFormatError(
      'PCAP_BAD_MAGIC',
      file,
      0,
      `not a pcap file: unknown magic number 0x${buffer.subarray(0, 4).toString('hex')}`,
    );
  }
  const u16 = (offset: number) =>
    byteOrder === 'LE' ? buffer.readUInt16LE(offset) : buffer.readUInt16BE(offset);
  const u32 = (offset: number) =>
    byteOrder === 'LE' ? buffer.readUInt32LE(offset) : buffer.readUInt32BE(offset);
  const header: PcapHeader = {
    byteOrder,
    precision,
    versionMajor: u16(4),
    versionMinor: u16(6),
    snaplen: u32(16),
    // The top bits of the link-type field carry FCS information; the type is the low 28 bits.
    linkType: u32(20) & 0x0fffffff,
  };
  if (header.versionMajor !== 2) {
    throw new PcapFormatError(
      'PCAP_UNSUPPORTED_VERSION',
      file,
      4,
      `unsupported pcap version ${header.versionMajor}.${header.versionMinor}: expected 2.4`,
    );
  }
  if (!options.anyLinkType && !SUPPORTED_LINK_TYPES.has(header.linkType)) {
    throw new PcapFormatError(
      'PCAP_UNSUPPORTED_LINK_TYPE',
      file,
      20,
      `unsupported link type ${header.linkType} (${linkTypeName(header.linkType)}): pathwatch reads EN10MB (1), LINUX_SLL (113) and LINUX_SLL2 (276)`,
    );
  }
  return header;
}

/** Reads and checks only the global header. */
export async function readPcapHeader(file: string, options: ReadPcapOptions = {}): Promise<PcapHeader> {
  const handle = await openForRead(file);
  try {
    const buffer = Buffer.alloc(PCAP_GLOBAL_HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, PCAP_GLOBAL_HEADER_BYTES, 0);
    return parsePcapHeader(buffer.subarray(0, bytesRead), file, options);
  } finally {
    await handle.close();
  }
}

/** Opens a regular file for reading; a directory, a FIFO or a device is refused before any read. */
async function openForRead(file: string) {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new PcapFormatError('PCAP_READ_FAILED', file, 0, `cannot open: ${(error as Error).message}`);
  }
  const stats = await handle.stat().catch(() => undefined);
  if (!stats?.isFile()) {
    await handle.close();
    const what = stats?.isDirectory() ? 'a directory' : 'not a regular file';
    throw new PcapFormatError('PCAP_READ_FAILED', file, 0, `${what}: expected a pcap file`);
  }
  return handle;
}

/**
 * A classic microsecond header with the file's byte order, fed to pcap-parser in place of the
 * real one: the record layout is the same for nanosecond files, only the unit differs, and
 * pcap-parser refuses the nanosecond magic.
 */
function parserHeader(header: PcapHeader): Buffer {
  const buffer = Buffer.alloc(PCAP_GLOBAL_HEADER_BYTES);
  const le = header.byteOrder === 'LE';
  const u32 = (value: number, offset: number) =>
    le ? buffer.writeUInt32LE(value, offset) : buffer.writeUInt32BE(value, offset);
  const u16 = (value: number, offset: number) =>
    le ? buffer.writeUInt16LE(value, offset) : buffer.writeUInt16BE(value, offset);
  u32(MAGIC_MICROS, 0);
  u16(2, 4);
  u16(4, 6);
  u32(header.snaplen, 16);
  u32(header.linkType, 20);
  return buffer;
}

/**
 * Streams the records of a pcap file through `onPacket`. The global header is checked here;
 * records are cut by pcap-parser. A truncated or corrupt file rejects with PcapFormatError
 * naming the byte offset; it never hangs (pcap-parser emits `end` after `error`, and a huge
 * bogus record length would otherwise make it buffer the rest of the file waiting for it).
 */
export async function readPcap(
  file: string,
  onPacket: PacketCallback,
  options: ReadPcapOptions = {},
): Promise<ReadPcapSummary> {
  const header = await readPcapHeader(file, options);
  const nanos = header.precision === 'ns';
  const maxRecord = Math.max(MAX_RECORD_BYTES, header.snaplen);
  const source = createReadStream(file, { start: PCAP_GLOBAL_HEADER_BYTES, highWaterMark: 1 << 20 });
  const input = new PassThrough({ highWaterMark: 1 << 20 });
  input.write(parserHeader(header));
  source.pipe(input);
  const parser = pcapParser.parse(input);

  return await new Promise<ReadPcapSummary>((resolve, reject) => {
    let settled = false;
    let streamed = 0; // bytes of records delivered by the file stream
    let consumed = 0; // bytes of complete records handed out
    let packets = 0;
    let pendingHeaderOffset = -1;
    let pendingLength = 0;

    const finish = (outcome: { error?: Error; truncatedTail?: boolean; stoppedEarly?: boolean }) => {
      if (settled) return;
      settled = true;
      parser.errored = true;
      source.unpipe(input);
      source.destroy();
      input.destroy();
      if (outcome.error) {
        reject(outcome.error);
        return;
      }
      resolve({
        file,
        header,
        packets,
        bytesRead: PCAP_GLOBAL_HEADER_BYTES + streamed,
        truncatedTail: outcome.truncatedTail ?? false,
        stoppedEarly: outcome.stoppedEarly ?? false,
      });
    };

    source.on('data', (chunk) => {
      streamed += chunk.length;
    });
    source.on('error', (error) =>
      finish({
        error: new PcapFormatError(
          'PCAP_READ_FAILED',
          file,
          PCAP_GLOBAL_HEADER_BYTES + streamed,
          error.message,
        ),
      }),
    );
    parser.on('packetHeader', (record) => {
      if (settled) return;
      pendingHeaderOffset = PCAP_GLOBAL_HEADER_BYTES + consumed;
      pendingLength = record.capturedLength;
      if (record.capturedLength > maxRecord) {
        finish({
          error: new PcapFormatError(
            'PCAP_CORRUPT_RECORD',
            file,
            pendingHeaderOffset,
            `corrupt record ${packets + 1}: captured length ${record.capturedLength} exceeds the limit of ${maxRecord} bytes`,
          ),
        });
      }
    });
    parser.on('packet', ({ header: record, data }) => {
      if (settled) return;
      const offset = PCAP_GLOBAL_HEADER_BYTES + consumed;
      consumed += PCAP_RECORD_HEADER_BYTES + record.capturedLength;
      pendingHeaderOffset = -1;
      packets += 1;
      if (record.timestampMicroseconds >= (nanos ? 1_000_000_000 : 1_000_000)) {
        finish({
          error: new PcapFormatError(
            'PCAP_CORRUPT_RECORD',
            file,
            offset,
            `corrupt record ${packets}: sub-second timestamp ${record.timestampMicroseconds} out of range`,
          ),
        });
        return;
      }
      const fraction = nanos ? Math.floor(record.timestampMicroseconds / 1000) : record.timestampMicroseconds;
      const keepGoing = onPacket(
        {
          timestampUs: record.timestampSeconds * 1_000_000 + fraction,
          capturedLength: record.capturedLength,
          originalLength: record.originalLength,
          data,
          offset,
        },
        header,
      );
      if (keepGoing === false) finish({ stoppedEarly: true });
    });
    parser.on('error', (error) =>
      finish({
        error: new PcapFormatError(
          'PCAP_READ_FAILED',
          file,
          PCAP_GLOBAL_HEADER_BYTES + consumed,
          `pcap-parser: ${error.message}`,
        ),
      }),
    );
    parser.on('end', () => {
      if (settled) return;
      const leftover = streamed - consumed;
      if (leftover === 0) {
        finish({});
        return;
      }
      if (options.allowTruncatedTail) {
        finish({ truncatedTail: true });
        return;
      }
      const offset = PCAP_GLOBAL_HEADER_BYTES + consumed;
      const detail =
        pendingHeaderOffset >= 0
          ? `truncated record ${packets + 1}: header says ${pendingLength} bytes, file ends after ${leftover - PCAP_RECORD_HEADER_BYTES}`
          : `truncated record header ${packets + 1}: ${leftover} of ${PCAP_RECORD_HEADER_BYTES} bytes`;
      finish({ error: new PcapFormatError('PCAP_TRUNCATED', file, offset, detail) });
    });
  });
}

export interface FirstRecord {
  header: PcapHeader;
  /** Undefined when the file holds no complete record header yet. */
  firstPacketUs?: number;
}

/** Global header and the first record's time, from the first 40 bytes only. */
export async function readFirstRecord(file: string): Promise<FirstRecord> {
  const handle = await openForRead(file);
  try {
    const buffer = Buffer.alloc(PCAP_GLOBAL_HEADER_BYTES + PCAP_RECORD_HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const header = parsePcapHeader(buffer.subarray(0, bytesRead), file);
    if (bytesRead < buffer.length) return { header };
    return { header, firstPacketUs: recordTimeUs(buffer, PCAP_GLOBAL_HEADER_BYTES, header) };
  } finally {
    await handle.close();
  }
}

/** Time of the record whose header starts at `offset` in `buffer`. */
export function recordTimeUs(buffer: Buffer, offset: number, header: PcapHeader): number {
  const le = header.byteOrder === 'LE';
  const seconds = le ? buffer.readUInt32LE(offset) : buffer.readUInt32BE(offset);
  const fraction = le ? buffer.readUInt32LE(offset + 4) : buffer.readUInt32BE(offset + 4);
  return seconds * 1_000_000 + (header.precision === 'ns' ? Math.floor(fraction / 1000) : fraction);
}

/** Captured length of the record whose header starts at `offset` in `buffer`. */
export function recordCapturedLength(buffer: Buffer, offset: number, header: PcapHeader): number {
  return header.byteOrder === 'LE' ? buffer.readUInt32LE(offset + 8) : buffer.readUInt32BE(offset + 8);
}
