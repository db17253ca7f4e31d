/**
 * Builds packets byte by byte for decoder and analysis tests, so each test states exactly
 * what is on the wire (addresses, flags, sequence numbers) without needing a capture.
 */

export interface TcpSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  flags?: string; // letters: S A F R P
  window?: number;
  payload?: Buffer;
}

export interface UdpSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: Buffer;
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

function ipv4(src: string, dst: string, protocol: number, body: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header[0] = 0x45;
  header.writeUInt16BE(20 + body.length, 2);
  header[8] = 64;
  header[9] = protocol;
  ipv4Bytes(src).copy(header, 12);
  ipv4Bytes(dst).copy(header, 16);
  return Buffer.concat([header, body]);
}

export function tcpIpv4(spec: TcpSpec): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(spec.sport, 0);
  header.writeUInt16BE(spec.dport, 2);
  header.writeUInt32BE((spec.seq ?? 0) >>> 0, 4);
  header.writeUInt32BE((spec.ack ?? 0) >>> 0, 8);
  header[12] = 5 << 4;
  const flags = spec.flags ?? 'A';
  header[13] =
    (flags.includes('F') ? 0x01 : 0) |
    (flags.includes('S') ? 0x02 : 0) |
    (flags.includes('R') ? 0x04 : 0) |
    (flags.includes('P') ? 0x08 : 0) |
    (flags.includes('A') ? 0x10 : 0);
  header.writeUInt16BE(spec.window ?? 65535, 14);
  return ipv4(spec.src, spec.dst, 6, Buffer.concat([header, spec.payload ?? Buffer.alloc(0)]));
}

export function udpIpv4(spec: UdpSpec): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(spec.sport, 0);
  header.writeUInt16BE(spec.dport, 2);
  header.writeUInt16BE(8 + spec.payload.length, 4);
  return ipv4(spec.src, spec.dst, 17, Buffer.concat([header, spec.payload]));
}

/** Ethernet II with zeroed MACs, as tcpdump shows loopback. */
export function ethernet(ip: Buffer, etherType = 0x0800): Buffer {
  const header = Buffer.alloc(14);
  header.writeUInt16BE(etherType, 12);
  return Buffer.concat([header, ip]);
}

/** A TLS record holding a ClientHello with one server_name extension. */
export function clientHelloRecord(serverName: string): Buffer {
  const name = Buffer.from(serverName, 'ascii');
  const sni = Buffer.alloc(9 + name.length);
  sni.writeUInt16BE(0, 0); // extension type server_name
  sni.writeUInt16BE(5 + name.length, 2);
  sni.writeUInt16BE(3 + name.length, 4); // list length
  sni[6] = 0; // host_name
  sni.writeUInt16BE(name.length, 7);
  name.copy(sni, 9);
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 7), // random
    Buffer.from([0]), // session id
    Buffer.from([0x00, 0x02, 0x13, 0x01]), // one cipher suite
    Buffer.from([0x01, 0x00]), // null compression
    Buffer.from([sni.length >> 8, sni.length & 0xff]),
    sni,
  ]);
  const handshake = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([22, 3, 1, handshake.length >> 8, handshake.length & 0xff]), handshake]);
}

/** A clear-text TLS alert record. */
export function alertRecord(level: number, description: number): Buffer {
  return Buffer.from([21, 3, 3, 0, 2, level, description]);
}
