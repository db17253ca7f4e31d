// pcap-parser 0.2.1 ships no types; this declares the part capture/pcap-reader.ts uses.
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';
  import type { Readable } from 'node:stream';

  export interface PcapParserGlobalHeader {
    magicNumber: number;
    majorVersion: number;
    minorVersion: number;
    gmtOffset: number;
    timestampAccuracy: number;
    snapshotLength: number;
    linkLayerType: number;
  }

  export interface PcapParserPacketHeader {
    timestampSeconds: number;
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }

  export interface PcapParserPacket {
    header: PcapParserPacketHeader;
    data: Buffer;
  }

  export interface PcapParser extends EventEmitter {
    on(event: 'globalHeader', listener: (header: PcapParserGlobalHeader) => void): this;
    on(event: 'packetHeader', listener: (header: PcapParserPacketHeader) => void): this;
    on(event: 'packet', listener: (packet: PcapParserPacket) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'end', listener: () => void): this;
    /** Set by the parser after a header error; checked before each chunk is parsed. */
    errored?: boolean;
  }

  export function parse(input: string | Readable): PcapParser;
  const pcapParser: { parse: typeof parse };
  export default pcapParser;
}
