/**
 * What writing the ring through pathwatch costs (issue 11: the ring holds no payload). The
 * same loopback traffic is captured three ways, one after the other, in one run:
 *
 *   tcpdump -C/-W   tcpdump writing the ring files itself (the peer: how a plain rolling
 *                   capture is kept, and how pathwatch kept it before)
 *   pathwatch full  tcpdump -w - piped into pathwatch's RingWriter, packets kept whole
 *   pathwatch cut   the same, each packet cut to its headers first (the default)
 *
 * For each: packets on disk, packets tcpdump says the kernel dropped, bytes on disk, and CPU
 * seconds (tcpdump's own from /proc, plus this process's for the pathwatch writer), then the
 * ratios against the peer. The traffic runs in its own process (bench/capture-traffic.ts).
 *
 *   npx tsx bench/capture-ring.ts [--rate 20] [--small 2000] [--seconds 8]
 *
 * --rate MB/s of HTTP bodies, --small requests/s of 1000-byte bodies (packet rate), --seconds
 * per variant. Needs root (or CAP_NET_RAW + CAP_NET_ADMIN); without it says why and exits 0.
 * Loopback only; everything is stopped and its temporary directory removed at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { checkCapturePermission } from '../capture/capture-permission.ts';
import { readPcap } from '../capture/pcap-reader.ts';
import { listRingFiles, ringBytes } from '../capture/ring-files.ts';
import { parseDropCounts, TcpdumpRing } from '../capture/tcpdump-ring.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '20' },
    small: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '8' },
  },
});
const RATE = Number(values.rate) * 1_000_000;
const SMALL = Number(values.small);
const SECONDS = Number(values.seconds);
const BODY = 16_384;
const RING_SIZE = 512 * 1_000_000;
const FILE_SIZE = 16 * 1_000_000;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Figures {
  name: string;
  packets: number;
  dropped: number;
  bytes: number;
  cpuSeconds: number;
  requests: number;
}

let dir: string | undefined;
const children = new Set<ChildProcess>();

async function cleanup(): Promise<void> {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));

async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function packetsIn(ringDir: string): Promise<number> {
  let packets = 0;
  for (const file of await listRingFiles(ringDir)) {
    const summary = await readPcap(file.path, () => true, { allowTruncatedTail: true, anyLinkType: true });
    packets += summary.packets;
  }
  return packets;
}

/** Runs the traffic for SECONDS; resolves with its request count. */
async function traffic(): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./capture-traffic.ts', import.meta.url).pathname,
      String(RATE),
      String(BODY),
      String(SECONDS + 60),
      String(SMALL),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  children.add(child);
  const lines = createInterface({ input: child.stdout! });
  let last = '';
  const first = new Promise<void>((resolve) =>
    lines.on('line', (line) => {
      last = line;
      resolve();
    }),
  );
  await first;
  await sleep(SECONDS * 1000);
  const closed = once(child, 'close');
  child.kill('SIGTERM');
  await closed;
  children.delete(child);
  return (JSON.parse(last) as { requests?: number }).requests ?? 0;
}

/** The peer: tcpdump writing its own ring with -C/-W. */
async function tcpdumpDirect(ringDir: string): Promise<Figures> {
  await mkdir(ringDir, { recursive: true });
  const child = spawn(
    'tcpdump',
    [
      '-n',
      '-U',
      '-i',
      'lo',
      '-s',
      '262144',
      '-B',
      '16384',
      '-C',
      String(FILE_SIZE / 1_000_000),
      '-W',
      String(RING_SIZE / FILE_SIZE),
      '-w',
      join(ringDir, 'ring.pcap'),
      '-Z',
      'root',
      'tcp',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => (stderr += text));
  while (!/listening on/.test(stderr)) await sleep(20);
  const requests = await traffic();
  await sleep(300);
  const cpuSeconds = await cpuSecondsOf(child.pid!);
  const closed = once(child, 'close');
  child.kill('SIGTERM');
  await closed;
  children.delete(child);
  return {
    name: 'tcpdump -C/-W',
    packets: await packetsIn(ringDir),
    dropped: parseDropCounts(stderr).kernel,
    bytes: await ringBytes(ringDir),
    cpuSeconds,
    requests,
  };
}

async function pathwatchRing(ringDir: string, payload: 'full' | 'headers'): Promise<Figures> {
  let tcpdumpPid: number | undefined;
  const ring = new TcpdumpRing({
    dir: ringDir,
    interface: 'lo',
    filter: 'tcp',
    ringSize: RING_SIZE,
    fileSize: FILE_SIZE,
    maxAge: 3_600_000,
    snaplen: 262_144,
    payload,
    bufferSize: 16 * 1024 * 1024,
    onEvent: (event) => {
      if (event.type === 'started') tcpdumpPid = event.pid;
    },
  });
  await ring.start();
  const before = process.cpuUsage();
  const requests = await traffic();
  await sleep(300);
  const tcpdumpCpu = await cpuSecondsOf(tcpdumpPid!);
  const ours = process.cpuUsage(before);
  await ring.stop();
  return {
    name: `pathwatch ${payload === 'full' ? 'full' : 'cut'}`,
    packets: await packetsIn(ringDir),
    dropped: ring.health().dropped,
    bytes: await ringBytes(ringDir),
    cpuSeconds: tcpdumpCpu + (ours.user + ours.system) / 1e6,
    requests,
  };
}

try {
  await checkCapturePermission();
} catch (error) {
  console.log(`capture-ring bench skipped: ${(error as Error).message}`);
  process.exit(0);
}
try {
  dir = await mkdtemp(join(tmpdir(), 'pw-bench-ring-'));
  const results: Figures[] = [];
  results.push(await tcpdumpDirect(join(dir, 'direct')));
  results.push(await pathwatchRing(join(dir, 'full'), 'full'));
  results.push(await pathwatchRing(join(dir, 'cut'), 'headers'));
  const peer = results[0];
  console.log(
    `capture ring, ${SECONDS} s of loopback HTTP per variant (${values.rate} MB/s of ${BODY}-byte bodies + ${SMALL} small requests/s)`,
  );
  console.log(
    'variant          packets   dropped   MB on disk   CPU s   µs CPU/packet   vs peer: CPU/packet  disk/packet',
  );
  for (const figures of results) {
    const perPacket = (figures.cpuSeconds * 1e6) / Math.max(1, figures.packets);
    const peerPerPacket = (peer.cpuSeconds * 1e6) / Math.max(1, peer.packets);
    const diskPerPacket = figures.bytes / Math.max(1, figures.packets);
    const peerDisk = peer.bytes / Math.max(1, peer.packets);
    console.log(
      [
        figures.name.padEnd(15),
        String(figures.packets).padStart(8),
        String(figures.dropped).padStart(9),
        (figures.bytes / 1e6).toFixed(1).padStart(12),
        figures.cpuSeconds.toFixed(2).padStart(7),
        perPacket.toFixed(2).padStart(15),
        `${(perPacket / peerPerPacket).toFixed(2)}×`.padStart(21),
        `${(diskPerPacket / peerDisk).toFixed(3)}×`.padStart(12),
      ].join(' '),
    );
  }
} finally {
  await cleanup();
}
