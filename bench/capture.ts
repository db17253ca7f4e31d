/**
 * The capture path under load (issue 7, done-when 4): a 1 GiB tcpdump ring on `lo` under
 * steady HTTP traffic, one timeout in the middle, and the worker's own code path
 * (CaptureAgent.collect: wait for the window → slice filtered to the run's peer + DNS →
 * analyse → store pcap + analysis in a FilesystemArtifactStore). Prints how long after the
 * window closed the evidence was stored, how many ring bytes and files the slice read against
 * what the ring held and what overlapped the window, then the analysis speed in MB/s against
 * `tshark -q -z conv,tcp` and `tcpdump -r … -w` on the same files, in the same run.
 *
 *   npx tsx bench/capture.ts [--rate 10] [--small 500] [--seconds 70] [--fill 700] [--body 65536]
 *
 * --rate MB/s of HTTP bodies (large segments: lo's MTU is 64 KiB), --small requests/s for a
 * 1000-byte body (the packet rate of ordinary exchanges), --seconds of traffic at most, --fill
 * stops the traffic early once the ring holds this many MB. Needs root (or CAP_NET_RAW + CAP_NET_ADMIN) for tcpdump;
 * without it, says why and exits 0. Loopback only; everything it starts is stopped and its
 * temporary directory removed at the end, on an error and on Ctrl-C.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { analyzeCapture } from '../capture/analyze-capture.ts';
import { CaptureAgent, type CaptureSettings } from '../capture/capture-agent.ts';
import { checkCapturePermission } from '../capture/capture-permission.ts';
import { listRingFiles, type RingFile, ringBytes } from '../capture/ring-files.ts';
import { sliceWindow } from '../capture/slice-window.ts';
import { FilesystemArtifactStore } from '../src/artifacts/filesystem-artifact-store.ts';
import type { RunResult } from '../src/results/run-result.ts';
import { createLogger } from '../src/util/logger.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '10' },
    small: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '70' },
    fill: { type: 'string', default: '700' },
    body: { type: 'string', default: '65536' },
  },
});
const RATE = Number(values.rate) * 1_000_000;
const SECONDS = Number(values.seconds);
const FILL = Number(values.fill) * 1_000_000;
const BODY = Number(values.body);
const SMALL = Number(values.small);
const RING_SIZE = 1024 ** 3;
const FILE_SIZE = 16_000_000;
const TIMEOUT_MS = 3000;
const BEFORE_MS = 10_000;
const AFTER_MS = 5000;
const REPEAT = 3;

const run = promisify(execFile);
const MB = 1_000_000;
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

// ── cleanup, also on Ctrl-C ──────────────────────────────────────────────────────────────
let dir: string | undefined;
let traffic: ChildProcess | undefined;
let agent: CaptureAgent | undefined;
let silent: Server | undefined;
const silentSockets = new Set<Socket>();
let cleaned: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaned ??= (async () => {
    if (traffic && traffic.exitCode === null) {
      traffic.kill('SIGTERM');
      await Promise.race([once(traffic, 'close'), sleep(5000)]);
    }
    await agent?.stop().catch(() => {});
    for (const socket of silentSockets) socket.destroy();
    silent?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  })();
  return cleaned;
}

process.on('SIGINT', () => {
  console.log('\ninterrupted: stopping tcpdump and the traffic, removing the ring');
  void cleanup().finally(() => process.exit(130));
});

// ── pieces ───────────────────────────────────────────────────────────────────────────────
async function startTraffic(): Promise<number> {
  traffic = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./capture-traffic.ts', import.meta.url).pathname,
      String(RATE),
      String(BODY),
      String(SECONDS + 120),
      String(SMALL),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: traffic.stdout! });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  return (JSON.parse(line) as { port: number }).port;
}

async function stopTraffic(): Promise<{ requests: number; bytes: number; errors: number; seconds: number }> {
  const child = traffic!;
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  const closed = once(child, 'close');
  child.kill('SIGTERM');
  await closed;
  return JSON.parse(output.trim().split('\n').pop() ?? '{}');
}

async function startSilent(): Promise<number> {
  silent = createServer((socket) => {
    silentSockets.add(socket);
    socket.on('close', () => silentSockets.delete(socket));
  });
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  return (silent.address() as { port: number }).port;
}

/** An HTTP GET to a server that accepts and never answers, with a client timeout: the run that fails. */
function timeoutRun(
  port: number,
): Promise<{ start: number; end: number; localPort?: number; error: string }> {
  return new Promise((resolve) => {
    const start = Date.now();
    let localPort: number | undefined;
    const request = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: TIMEOUT_MS });
    request.on('socket', (socket) => socket.on('connect', () => (localPort = socket.localPort)));
    request.on('timeout', () => request.destroy(new Error(`timeout of ${TIMEOUT_MS} ms exceeded`)));
    request.on('response', (response) => response.resume());
    request.on('error', (error) => resolve({ start, end: Date.now(), localPort, error: error.message }));
  });
}

function overlaps(file: RingFile, from: number, to: number): boolean {
  return file.firstPacketMs <= to && file.lastPacketBoundMs >= from;
}

async function bestOf(times: number, work: () => Promise<unknown>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await work();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

async function has(command: string): Promise<boolean> {
  return run(command, ['--version'], { timeout: 10_000 }).then(
    () => true,
    () => false,
  );
}

interface SpeedRow {
  label: string;
  bytes: number;
  packets: number;
  oursMs: number;
  tsharkMs?: number;
  tcpdumpMs?: number;
}

async function measureSpeed(label: string, file: string, tools: { tshark: boolean }): Promise<SpeedRow> {
  const { size } = await stat(file);
  const { packets } = await analyzeCapture(file);
  const oursMs = await bestOf(REPEAT, () => analyzeCapture(file));
  const tsharkMs = tools.tshark
    ? await bestOf(REPEAT, () =>
        run('tshark', ['-r', file, '-q', '-z', 'conv,tcp'], { timeout: 300_000, maxBuffer: 64 * MB }),
      )
    : undefined;
  const copy = join(dir!, 'tcpdump-copy.pcap');
  const tcpdumpMs = await bestOf(REPEAT, () =>
    run('tcpdump', ['-n', '-r', file, '-w', copy], { timeout: 300_000 }),
  );
  await rm(copy, { force: true });
  return { label, bytes: size, packets, oursMs, tsharkMs, tcpdumpMs };
}

function speedTable(rows: SpeedRow[]): string {
  const rate = (bytes: number, ms: number | undefined) => {
    if (ms === undefined) return 'n/a';
    const speed = bytes / MB / (ms / 1000);
    return `${speed.toFixed(speed < 10 ? 2 : 0)} MB/s (${ms.toFixed(ms < 10 ? 1 : 0)} ms)`;
  };
  const packetRate = (packets: number, ms: number) => `${(packets / (ms / 1000) / 1000).toFixed(0)}k pkt/s`;
  const ratio = (ours: number, peer: number | undefined) =>
    peer === undefined ? 'n/a' : `${(peer / ours).toFixed(2)}×`;
  const header = [
    'file'.padEnd(30),
    'size'.padStart(10),
    'packets'.padStart(8),
    'pathwatch analyzeCapture'.padStart(26),
    'pathwatch'.padStart(13),
    'tshark -z conv,tcp'.padStart(26),
    'tcpdump -r -w'.padStart(26),
    'vs tshark'.padStart(10),
    'vs tcpdump'.padStart(11),
  ].join(' ');
  const lines = rows.map((row) =>
    [
      row.label.padEnd(30),
      (row.bytes < MB ? `${row.bytes} B` : mb(row.bytes)).padStart(10),
      String(row.packets).padStart(8),
      rate(row.bytes, row.oursMs).padStart(26),
      packetRate(row.packets, row.oursMs).padStart(13),
      rate(row.bytes, row.tsharkMs).padStart(26),
      rate(row.bytes, row.tcpdumpMs).padStart(26),
      ratio(row.oursMs, row.tsharkMs).padStart(10),
      ratio(row.oursMs, row.tcpdumpMs).padStart(11),
    ].join(' '),
  );
  return [header, ...lines].join('\n');
}

// ── the bench ────────────────────────────────────────────────────────────────────────────
async function main(): Promise<void> {
  try {
    await checkCapturePermission();
  } catch (error) {
    console.log(`capture bench skipped: ${(error as Error).message}`);
    return;
  }
  const tools = { tshark: await has('tshark') };
  dir = await mkdtemp(join(tmpdir(), 'pathwatch-bench-capture-'));
  const ringDir = join(dir, 'ring');
  const storeDir = join(dir, 'artifacts');
  const store = new FilesystemArtifactStore(storeDir);

  const httpPort = await startTraffic();
  const silentPort = await startSilent();
  const settings: CaptureSettings = {
    enabled: true,
    interface: 'lo',
    filter: `tcp port ${httpPort} or tcp port ${silentPort}`,
    ringSize: RING_SIZE,
    fileSize: FILE_SIZE,
    maxAge: 3_600_000,
    snaplen: 262_144,
    payload: 'headers',
    bufferSize: 32 * 1024 ** 2,
    before: BEFORE_MS,
    after: AFTER_MS,
    collections: [],
  };
  agent = new CaptureAgent(settings, ringDir, store, createLogger('bench-capture', 'error'));
  const started = await agent.start();
  if (!started.capturing) {
    console.log(`capture bench skipped: ${started.reason}`);
    return;
  }
  const trafficStarted = Date.now();
  console.log(
    `pathwatch capture bench: 1 GiB ring (${FILE_SIZE / MB} MB files) on lo, filter "${settings.filter}"; ` +
      `HTTP ${BODY} B bodies at ${RATE / MB} MB/s + ${SMALL}/s 1000 B bodies, for at most ${SECONDS} s or until the ring holds ${mb(FILL)}; ` +
      `one ${TIMEOUT_MS} ms timeout at ${Math.round(SECONDS / 2)} s, window [start − ${BEFORE_MS / 1000} s, end + ${AFTER_MS / 1000} s]`,
  );

  const progress = async () => {
    const bytes = await ringBytes(ringDir);
    console.log(`  t=${((Date.now() - trafficStarted) / 1000).toFixed(0)} s: ring holds ${mb(bytes)}`);
    return bytes;
  };

  // Half the traffic, then the timeout, while traffic goes on.
  const halfway = trafficStarted + (SECONDS * 1000) / 2;
  while (Date.now() < halfway) {
    await sleep(Math.min(10_000, halfway - Date.now()));
    await progress();
  }
  const attempt = await timeoutRun(silentPort);
  const result: RunResult = {
    runId: 'bench-timeout',
    checkId: 'bench',
    kind: 'http',
    location: 'bench',
    startedAt: attempt.start,
    finishedAt: attempt.end,
    attempt: 1,
    status: 'fail',
    phases: { total: attempt.end - attempt.start },
    peers: [{ ip: '127.0.0.1', port: silentPort }],
    error: { class: 'timeout', message: attempt.error, phase: 'firstByte' },
  };
  const from = result.startedAt - BEFORE_MS;
  const to = result.finishedAt + AFTER_MS;
  console.log(
    `timeout: 127.0.0.1:${attempt.localPort} -> 127.0.0.1:${silentPort} "${attempt.error}" after ${attempt.end - attempt.start} ms; ` +
      `window ${((to - from) / 1000).toFixed(1)} s closes ${to - Date.now()} ms from now`,
  );
  const evidence = await agent.collect(result);
  if (!evidence) throw new Error('the capture agent did not collect the timeout');
  const files = await listRingFiles(ringDir);
  const inWindow = files.filter((file) => overlaps(file, from, to));
  const ringTotal = files.reduce((sum, file) => sum + file.bytes, 0);
  const pcapKey = evidence.artifacts.find((artifact) => artifact.kind === 'pcap')!.key;
  const slicePath = join(storeDir, pcapKey);
  console.log(
    `  slice + analysis stored ${evidence.storedAfterWindowMs} ms after the window closed (goal ≤ 2000 ms)\n` +
      `  read ${evidence.filesRead} ring files, ${mb(evidence.bytesRead)}, of ${files.length} files, ${mb(ringTotal)} in the ring; ` +
      `${inWindow.length} files (${mb(inWindow.reduce((sum, file) => sum + file.bytes, 0))}) overlap the window\n` +
      `  slice: ${evidence.analysis.packets} packets, ${(await stat(slicePath)).size} bytes; diagnosis: ${evidence.analysis.diagnosis}`,
  );

  // The same window again, step by step (warm page cache), to see where the time goes.
  const again = await sliceWindow({
    ringDir,
    from,
    to,
    peers: result.peers,
    includeDns: true,
    outputPath: join(dir, 'again.pcap'),
  });
  const analyzeMs = await bestOf(1, () => analyzeCapture(join(dir!, 'again.pcap')));
  console.log(
    `  breakdown (same window again): slice ${again.durationMs.toFixed(0)} ms for ${mb(again.bytesRead)} ` +
      `(${(again.bytesRead / MB / (again.durationMs / 1000)).toFixed(0)} MB/s), analysis ${analyzeMs.toFixed(1)} ms`,
  );

  // The rest of the traffic, bounded by time and by how full the ring is.
  const end = trafficStarted + SECONDS * 1000;
  while (Date.now() < end) {
    await sleep(Math.min(10_000, end - Date.now()));
    if ((await progress()) >= FILL) break;
  }
  const sent = await stopTraffic();
  await agent.stop();
  const health = agent.health();
  const finalFiles = await listRingFiles(ringDir);
  console.log(
    `traffic: ${sent.requests} requests, ${mb(sent.bytes)} of bodies in ${sent.seconds.toFixed(1)} s (${(sent.bytes / MB / sent.seconds).toFixed(1)} MB/s), ${sent.errors} errors; ` +
      `ring: ${finalFiles.length} files, ${mb(await ringBytes(ringDir))}; tcpdump dropped ${'dropped' in health ? health.dropped : '?'} packets` +
      ('lastError' in health && health.lastError ? `; tcpdump: ${health.lastError}` : ''),
  );

  // Analysis speed on the same files, against tshark and tcpdump, with the ring stopped.
  const unfiltered = await sliceWindow({ ringDir, from, to, outputPath: join(dir, 'window.pcap') });
  const fullFile = finalFiles.find((file) => file.bytes >= FILE_SIZE * 0.99) ?? finalFiles[0];
  console.log(
    `analysis speed, best of ${REPEAT}, wall clock (tshark and tcpdump include process start-up; ratio = their time / ours):`,
  );
  const rows = [
    await measureSpeed('stored slice (filtered)', slicePath, tools),
    await measureSpeed('whole window (unfiltered)', unfiltered.output, tools),
    await measureSpeed(`one ring file (${fullFile.name})`, fullFile.path, tools),
  ];
  console.log(speedTable(rows));
  if (!tools.tshark) console.log('tshark not installed: its column is n/a');
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
