import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { analyzeCapture } from '../../capture/analyze-capture.ts';
import { formatAnalysis } from '../../capture/format-analysis.ts';
import { LINKTYPE_ETHERNET } from '../../capture/link-types.ts';
import { PcapFormatError } from '../../capture/pcap-format-error.ts';
import { PcapWriter } from '../../capture/pcap-writer.ts';
import { alertRecord, clientHelloRecord, ethernet, tcpIpv4, udpIpv4 } from '../helpers/capture-packets.ts';
import { runCli } from '../helpers/run-cli.ts';

/**
 * A few hundred pcaps mutated from real captures (the fixtures) and hand-built flows, with a
 * fixed seed: whatever the bytes, the analysis ends in bounded time with a clean analysis or
 * one clear PcapFormatError line, never another exception.
 */

const SEED = 0x5eed_0011;
const CASES = 360;
const PER_FILE_LIMIT_MS = 3000;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pwcap-fuzz-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** mulberry32: small, fast and the same sequence everywhere for one seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

async function syntheticBase(): Promise<Buffer> {
  const file = join(dir, 'synthetic-base.pcap');
  const writer = await PcapWriter.create(file, { linkType: LINKTYPE_ETHERNET });
  const c = { src: '10.0.0.2', dst: '10.0.0.5', sport: 50001, dport: 443 };
  const s = { src: '10.0.0.5', dst: '10.0.0.2', sport: 443, dport: 50001 };
  const query = dnsPacket.encode({ type: 'query', id: 9, questions: [{ type: 'A', name: 'shop.example' }] });
  const answer = dnsPacket.encode({
    type: 'response',
    id: 9,
    questions: [{ type: 'A', name: 'shop.example' }],
    answers: [{ type: 'A', name: 'shop.example', data: '10.0.0.5' }],
  });
  const packets = [
    udpIpv4({ src: '10.0.0.2', dst: '10.0.0.53', sport: 40000, dport: 53, payload: query }),
    udpIpv4({ src: '10.0.0.53', dst: '10.0.0.2', sport: 53, dport: 40000, payload: answer }),
    tcpIpv4({ ...c, flags: 'S', seq: 1000 }),
    tcpIpv4({ ...s, flags: 'SA', seq: 9000, ack: 1001 }),
    tcpIpv4({ ...c, flags: 'A', seq: 1001, ack: 9001 }),
    tcpIpv4({ ...c, flags: 'PA', seq: 1001, ack: 9001, payload: clientHelloRecord('shop.example') }),
    tcpIpv4({ ...s, flags: 'PA', seq: 9001, ack: 1100, payload: alertRecord(2, 40) }),
    tcpIpv4({ ...s, flags: 'RA', seq: 9008, ack: 1100 }),
    tcpIpv4({ ...c, sport: 50002, flags: 'S', seq: 5 }),
    tcpIpv4({ ...s, dport: 50002, flags: 'RA', ack: 6 }),
  ];
  packets.forEach((data, index) => {
    writer.write({ timestampUs: 1_700_000_000_000_000 + index * 1000, data: ethernet(data) });
  });
  await writer.close();
  return readFile(file);
}

/** Offsets of the record headers of a well-formed little-endian pcap. */
function recordOffsets(pcap: Buffer): number[] {
  const offsets: number[] = [];
  for (let offset = 24; offset + 16 <= pcap.length; ) {
    offsets.push(offset);
    offset += 16 + pcap.readUInt32LE(offset + 8);
  }
  return offsets;
}

function mutate(base: Buffer, random: () => number): Buffer {
  const pick = (n: number) => Math.floor(random() * n);
  let bytes = Buffer.from(base);
  const records = recordOffsets(base);
  const operations = 1 + pick(3);
  for (let i = 0; i < operations; i++) {
    const record = records[pick(records.length)] ?? 24;
    switch (pick(8)) {
      case 0: // flip bytes anywhere past the global header
        for (let n = 1 + pick(8); n > 0; n--) bytes[24 + pick(bytes.length - 24)] ^= 1 + pick(255);
        break;
      case 1: // cut the file short
        bytes = bytes.subarray(0, pick(bytes.length));
        break;
      case 2: // a nonsense captured length
        if (record + 12 <= bytes.length) bytes.writeUInt32LE(pick(0xffffffff), record + 8);
        break;
      case 3: {
        // a bad IPv4 header length (IHL 0–4) or version in a random packet
        const ipStart = record + 16 + (base.readUInt32LE(20) === LINKTYPE_ETHERNET ? 14 : 20);
        if (ipStart < bytes.length) bytes[ipStart] = (bytes[ipStart] & 0xf0) | pick(5);
        break;
      }
      case 4: {
        // the same frame twice, as -i any writes it
        const end = record + 16 + base.readUInt32LE(record + 8);
        if (end <= bytes.length) bytes = Buffer.concat([bytes, bytes.subarray(record, end)]);
        break;
      }
      case 5: // garbage appended
        bytes = Buffer.concat([bytes, Buffer.from(Array.from({ length: pick(64) }, () => pick(256)))]);
        break;
      case 6: {
        // a random TCP data offset / flags / DNS byte inside a packet
        const inside = record + 16 + 14 + 20 + pick(40);
        if (inside < bytes.length) bytes[inside] = pick(256);
        break;
      }
      default: // the global header damaged
        bytes[pick(24)] ^= 1 + pick(255);
    }
  }
  return bytes;
}

test(`${CASES} mutated pcaps: a clean analysis or one clear error line, never a throw or a hang`, async () => {
  const fixtures = join(import.meta.dirname, '..', 'fixtures', 'pcap');
  const bases = [
    await readFile(join(fixtures, 'tls-protocol-version-sll.pcap')),
    await readFile(join(fixtures, 'tls-protocol-version-sll2.pcap')),
    await syntheticBase(),
  ];
  const random = prng(SEED);
  const outcomes = { analysed: 0, refused: 0 };
  const started = Date.now();
  for (let i = 0; i < CASES; i++) {
    const file = join(dir, `case-${i}.pcap`);
    await writeFile(file, mutate(bases[i % bases.length], random));
    const scope =
      i % 2 === 0
        ? {
            startedAt: 1_700_000_000_000,
            finishedAt: 1_700_000_000_020,
            localPorts: i % 4 === 0 ? [50001] : [],
            timeoutMs: 2000,
            error: { class: 'refused' as const, message: 'connect refused' },
          }
        : undefined;
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`case ${i} hung`)), PER_FILE_LIMIT_MS);
    });
    try {
      const analysis = await Promise.race([analyzeCapture(file, scope), hang]);
      assert.equal(typeof analysis.diagnosis, 'string', `case ${i}`);
      assert.ok(
        analysis.diagnosis.length > 0 && !analysis.diagnosis.includes('\n'),
        `case ${i}: ${analysis.diagnosis}`,
      );
      assert.equal(typeof formatAnalysis(analysis), 'string');
      JSON.stringify(analysis);
      outcomes.analysed += 1;
    } catch (error) {
      assert.ok(error instanceof PcapFormatError, `case ${i} threw ${(error as Error).stack}`);
      assert.ok(!error.message.includes('\n'), `case ${i}: ${error.message}`);
      outcomes.refused += 1;
    } finally {
      clearTimeout(timer);
    }
  }
  console.log(`fuzz-pcap: ${JSON.stringify(outcomes)} in ${Date.now() - started} ms`);
  assert.ok(outcomes.analysed > CASES / 4, 'most mutations leave a readable file to analyse');
  assert.ok(outcomes.refused > 0, 'some mutations are refused');
});

test('pathwatch analyze on a directory is one clear line, not EISDIR with a stack', async () => {
  const result = await runCli(['analyze', dir]);
  assert.notEqual(result.code, 0);
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  assert.match(result.stderr.trim(), /^pathwatch analyze: .*: a directory: expected a pcap file/);
  assert.doesNotMatch(result.stderr, /EISDIR|at .*\.ts:/);
});
