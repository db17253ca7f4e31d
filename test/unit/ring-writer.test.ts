import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readPcap } from '../../capture/pcap-reader.ts';
import { RingWriter, ringFileName } from '../../capture/ring-writer.ts';

const root = mkdtempSync(join(tmpdir(), 'pw-ring-writer-'));
after(() => rmSync(root, { recursive: true, force: true }));

const LINKTYPE_ETHERNET = 1;

function globalHeader(): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262_144, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  return header;
}

/** An Ethernet/IPv4/TCP packet from 10.0.0.1:40000 to 10.0.0.2:80 carrying `payload`. */
function tcpPacket(payload: string): Buffer {
  const body = Buffer.from(payload, 'latin1');
  const ethernet = Buffer.alloc(14);
  ethernet.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + body.length, 2);
  ip[8] = 64;
  ip[9] = 6;
  Buffer.from([10, 0, 0, 1]).copy(ip, 12);
  Buffer.from([10, 0, 0, 2]).copy(ip, 16);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(40_000, 0);
  tcp.writeUInt16BE(80, 2);
  tcp[12] = 5 << 4;
  tcp[13] = 0x18;
  return Buffer.concat([ethernet, ip, tcp, body]);
}

function record(data: Buffer, second: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32LE(second, 0);
  header.writeUInt32LE(data.length, 8);
  header.writeUInt32LE(data.length, 12);
  return Buffer.concat([header, data]);
}

async function packetsOf(file: string): Promise<Array<{ captured: number; original: number; data: Buffer }>> {
  const packets: Array<{ captured: number; original: number; data: Buffer }> = [];
  await readPcap(file, (packet) => {
    packets.push({ captured: packet.capturedLength, original: packet.originalLength, data: packet.data });
    return true;
  });
  return packets;
}

test('records split across chunks at every byte are written whole, payloads cut, original lengths kept', async () => {
  const secret = 'GET / HTTP/1.1\r\nAuthorization: Bearer ring-writer-secret\r\n\r\n';
  const stream = Buffer.concat([globalHeader(), record(tcpPacket(secret), 1), record(tcpPacket(''), 2)]);
  for (const split of [1, 7, 23, 24, 25, 39, 40, 100, stream.length - 1]) {
    const dir = mkdtempSync(join(root, 'split-'));
    const writer = new RingWriter({ dir, fileBytes: 1_000_000, fileCount: 2, payload: 'headers' });
    writer.beginStream();
    writer.push(stream.subarray(0, split));
    writer.push(stream.subarray(split));
    writer.close();
    const file = join(dir, ringFileName(0, 2));
    assert.equal(readFileSync(file).includes('ring-writer-secret'), false, `split at ${split}`);
    const packets = await packetsOf(file);
    assert.deepEqual(
      packets.map((packet) => [packet.captured, packet.original]),
      [
        [54, 54 + secret.length],
        [54, 54],
      ],
      `split at ${split}`,
    );
    assert.equal(writer.bytesCut, secret.length);
  }
});

test('payload full writes packets as captured', async () => {
  const dir = mkdtempSync(join(root, 'full-'));
  const writer = new RingWriter({ dir, fileBytes: 1_000_000, fileCount: 2, payload: 'full' });
  writer.beginStream();
  writer.push(Buffer.concat([globalHeader(), record(tcpPacket('kept as sent'), 1)]));
  writer.close();
  assert.ok(readFileSync(join(dir, ringFileName(0, 2))).includes('kept as sent'));
});

test('files rotate before they pass their size, wrap around the circle, and a new stream starts a new file', async () => {
  const dir = mkdtempSync(join(root, 'rotate-'));
  const packet = record(tcpPacket('x'.repeat(446)), 1); // 516 bytes
  const writer = new RingWriter({
    dir,
    fileBytes: 24 + 2 * packet.length,
    fileCount: 3,
    payload: 'full',
    firstIndex: 2,
  });
  writer.beginStream();
  writer.push(Buffer.concat([globalHeader(), ...Array.from({ length: 7 }, () => packet)]));
  // Seven packets, two per file, starting at file 2: 2, 0, 1, then 2 again (overwritten).
  // The last one waits in the queue until flushed (or FLUSH_MS passes).
  assert.equal(statSync(join(dir, 'ring.pcap2')).size, 0, 'queued, not yet written');
  writer.flush();
  assert.deepEqual(readdirSync(dir).sort(), ['ring.pcap0', 'ring.pcap1', 'ring.pcap2']);
  assert.equal((await packetsOf(join(dir, 'ring.pcap2'))).length, 1);
  assert.equal((await packetsOf(join(dir, 'ring.pcap0'))).length, 2);
  for (const name of readdirSync(dir))
    assert.ok(readFileSync(join(dir, name)).length <= 24 + 2 * packet.length);
  writer.beginStream();
  writer.push(Buffer.concat([globalHeader(), record(tcpPacket('after restart'), 9)]));
  writer.close();
  const restarted = await packetsOf(join(dir, 'ring.pcap0'));
  assert.equal(restarted.length, 1, 'a restarted stream begins the next file');
  assert.ok(restarted[0].data.includes('after restart'));
});

test('a stream that is not a pcap, or loses its alignment, is refused with a clear error and writes nothing more', async () => {
  const dir = mkdtempSync(join(root, 'bad-'));
  const writer = new RingWriter({ dir, fileBytes: 1_000_000, fileCount: 2, payload: 'headers' });
  writer.beginStream();
  assert.throws(() => writer.push(Buffer.from('tcpdump: this is not a capture file at all')), /magic|pcap/i);
  writer.beginStream();
  const huge = Buffer.alloc(16);
  huge.writeUInt32LE(5_000_000, 8);
  assert.throws(
    () => writer.push(Buffer.concat([globalHeader(), record(tcpPacket('ok'), 1), huge])),
    /record of 5000000 bytes exceeds 262144/,
  );
  writer.push(record(tcpPacket('never written'), 2));
  writer.close();
  const packets = await packetsOf(join(dir, ringFileName(0, 2)));
  assert.equal(packets.length, 1, 'the packet before the bad record is kept');
});

test('queued records reach the file within a moment without a flush', async () => {
  const dir = mkdtempSync(join(root, 'timed-'));
  const writer = new RingWriter({ dir, fileBytes: 1_000_000, fileCount: 2, payload: 'full' });
  writer.beginStream();
  writer.push(Buffer.concat([globalHeader(), record(tcpPacket('soon'), 1)]));
  const file = join(dir, ringFileName(0, 2));
  assert.equal(statSync(file).size, 0);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await packetsOf(file)).length, 1, 'written by the timer');
  writer.close();
});
