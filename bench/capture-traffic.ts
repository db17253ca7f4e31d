/**
 * Steady loopback traffic for bench/capture.ts, in its own process so that the slicing being
 * measured does not share an event loop with it: an HTTP server on 127.0.0.1 and a client
 * fetching fixed-size bodies over keep-alive connections at a fixed byte rate.
 *
 *   node --import tsx bench/capture-traffic.ts <bytesPerSecond> <bodyBytes> <maxSeconds> [smallPerSecond]
 *
 * Bodies of <bodyBytes> travel in few, large segments (lo's MTU is 64 KiB); the second stream,
 * smallPerSecond requests for a 1000-byte body on their own connections, adds the packet rate
 * of ordinary small exchanges, so per-packet costs show in the analysis figures.
 *
 * Prints `{"port":N}` once listening, runs until SIGTERM/SIGINT, stdin closing (the parent
 * died) or maxSeconds, then prints `{"requests":N,"bytes":N,"errors":N}` and exits.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const bytesPerSecond = Number(process.argv[2] ?? 10_000_000);
const bodyBytes = Number(process.argv[3] ?? 65_536);
const maxSeconds = Number(process.argv[4] ?? 300);
const smallPerSecond = Number(process.argv[5] ?? 0);
const SMALL_BYTES = 1000;
const TICK_MS = 10;
const MAX_IN_FLIGHT = 8;

const body = Buffer.alloc(bodyBytes, 'pathwatch-bench ');
const small = Buffer.alloc(SMALL_BYTES, 'pathwatch-small ');
const server = http.createServer((request, response) => {
  const payload = request.url === '/small' ? small : body;
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payload.length });
  response.end(payload);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
process.stdout.write(`${JSON.stringify({ port })}\n`);

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const smallAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
let requests = 0;
let bytes = 0;
let errors = 0;
let inFlight = 0;
let credit = 0;
let smallCredit = 0;
let stopping = false;

function fetchOne(path = '/'): void {
  inFlight += 1;
  const request = http.get(
    { host: '127.0.0.1', port, path, agent: path === '/' ? agent : smallAgent },
    (response) => {
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      response.on('end', () => {
        requests += 1;
        inFlight -= 1;
      });
    },
  );
  request.on('error', () => {
    errors += 1;
    inFlight -= 1;
  });
}

const started = Date.now();
let last = started;
const ticker = setInterval(() => {
  const now = Date.now();
  // Credit accrues at the fixed rate; at most one second of it is kept, so a stall is not followed by a burst.
  credit = Math.min(bytesPerSecond, credit + ((now - last) / 1000) * bytesPerSecond);
  smallCredit = Math.min(smallPerSecond, smallCredit + ((now - last) / 1000) * smallPerSecond);
  last = now;
  while (credit >= bodyBytes && inFlight < MAX_IN_FLIGHT) {
    credit -= bodyBytes;
    fetchOne();
  }
  while (smallCredit >= 1 && inFlight < 2 * MAX_IN_FLIGHT) {
    smallCredit -= 1;
    fetchOne('/small');
  }
  if (now - started > maxSeconds * 1000) void stop();
}, TICK_MS);

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  agent.destroy();
  smallAgent.destroy();
  server.closeAllConnections();
  server.close();
  process.stdout.write(
    `${JSON.stringify({ requests, bytes, errors, seconds: (Date.now() - started) / 1000 })}\n`,
  );
  process.exit(0);
}

process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.stdin.on('close', () => void stop());
process.stdin.resume();
