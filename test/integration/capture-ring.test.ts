import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { analyzeCapture } from '../../capture/analyze-capture.ts';
import type { CaptureAnalysis } from '../../capture/capture-analysis.ts';
import { checkCapturePermission } from '../../capture/capture-permission.ts';
import { listRingFiles, ringBytes } from '../../capture/ring-files.ts';
import { sliceWindow, waitForWindow } from '../../capture/slice-window.ts';
import { TcpdumpRing } from '../../capture/tcpdump-ring.ts';
import { conversationKey, tsharkConversations, tsharkCount } from '../helpers/capture-tshark.ts';
import { createTestPki } from '../helpers/test-certificates.ts';
import { startHttpServer, startSilentServer, type TestServer } from '../helpers/test-servers.ts';

let unavailable: string | undefined;
let dir: string;
let ring: TcpdumpRing | undefined;
let web: TestServer;
let silent: TestServer;
let resetter: Server;
let resetPort: number;
let tlsServer: tls.Server;
let tlsPort: number;
const resetSockets = new Set<Socket>();

before(async () => {
  try {
    await checkCapturePermission();
  } catch (error) {
    unavailable = (error as Error).message;
    console.log(`capture tests skipped: ${unavailable}`);
    return;
  }
  dir = await mkdtemp(join(tmpdir(), 'pwcap-ring-'));
  web = await startHttpServer((_request, response) => response.end('ok'));
  silent = await startSilentServer();
  // Answers every request with an RST: the "reset by server" case.
  resetter = createServer((socket) => {
    resetSockets.add(socket);
    socket.once('data', () => socket.resetAndDestroy());
  });
  resetter.listen(0, '127.0.0.1');
  await once(resetter, 'listening');
  resetPort = (resetter.address() as { port: number }).port;
  // TLS 1.2 at most, so its certificate and alerts travel in clear.
  const pki = createTestPki();
  tlsServer = tls.createServer(
    { key: pki.valid.key, cert: pki.valid.cert, maxVersion: 'TLSv1.2' },
    (socket) => socket.end(),
  );
  tlsServer.on('tlsClientError', () => {});
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  tlsPort = (tlsServer.address() as { port: number }).port;
  ring = new TcpdumpRing({
    dir: join(dir, 'ring'),
    interface: 'lo',
    filter: `tcp port ${web.port} or tcp port ${silent.port} or tcp port ${resetPort} or tcp port ${tlsPort}`,
    ringSize: 8_000_000,
    fileSize: 2_000_000,
    maxAge: 600_000,
    snaplen: 262_144,
    // Payloads kept in this ring, so that slices can be cut here and compared with full ones.
    payload: 'full',
    bufferSize: 8 * 1024 * 1024,
  });
  await ring.start();
});

after(async () => {
  await ring?.stop();
  await web?.close();
  await silent?.close();
  for (const socket of resetSockets) socket.destroy();
  resetter?.close();
  tlsServer?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** One HTTP GET on a fresh connection; resolves with its times and local port, whatever the outcome. */
function request(
  port: number,
  timeoutMs: number,
): Promise<{ start: number; end: number; localPort?: number; outcome: string }> {
  return new Promise((resolve) => {
    const start = Date.now();
    let localPort: number | undefined;
    const req = http.get(
      { host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs },
      (response) => {
        response.resume();
        response.on('end', () =>
          resolve({ start, end: Date.now(), localPort, outcome: `status ${response.statusCode}` }),
        );
      },
    );
    req.on('socket', (socket) => socket.on('connect', () => (localPort = socket.localPort)));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ start, end: Date.now(), localPort, outcome: error.message }));
  });
}

async function sliceAround(
  name: string,
  window: { start: number; end: number },
  port: number,
): Promise<{ analysis: CaptureAnalysis; file: string; slice: Awaited<ReturnType<typeof sliceWindow>> }> {
  const from = window.start - 100;
  const to = window.end + 100;
  const ready = await waitForWindow(ring!.dir, to, 5000);
  assert.ok(ready.ready, `ring holds the window: ${JSON.stringify(ready)}`);
  const file = join(dir, `${name}.pcap`);
  const cut = { ringDir: ring!.dir, from, to, peers: [{ ip: '127.0.0.1', port }], includeDns: true };
  const slice = await sliceWindow({ ...cut, outputPath: file });
  const analysis = await analyzeCapture(file);
  // Payloads are cut by default; the analysis must not notice.
  const fullFile = join(dir, `${name}-full.pcap`);
  const full = await sliceWindow({ ...cut, payload: 'full', outputPath: fullFile });
  assert.equal(full.packets, slice.packets);
  assert.deepEqual(
    { ...analysis, file: undefined },
    { ...(await analyzeCapture(fullFile)), file: undefined },
    'the same analysis on the headers-only slice as on the full one',
  );
  return { analysis, file, slice };
}

/** Packets per flow, retransmissions and resets: ours against tshark's on the same file. */
async function assertAgreesWithTshark(file: string, analysis: CaptureAnalysis): Promise<void> {
  const conversations = await tsharkConversations(file);
  assert.deepEqual(
    conversations.map((conversation) => [conversation.key, conversation.frames]).sort(),
    analysis.tcpFlows
      .map((flow) => [
        conversationKey(`${flow.client.ip}:${flow.client.port}`, `${flow.server.ip}:${flow.server.port}`),
        flow.packets,
      ])
      .sort(),
  );
  const ours = (count: (flow: CaptureAnalysis['tcpFlows'][number]) => number) =>
    analysis.tcpFlows.reduce((sum, flow) => sum + count(flow), 0);
  assert.equal(
    await tsharkCount(file, 'tcp.analysis.retransmission'),
    ours((flow) => flow.retransmissions),
  );
  assert.equal(
    await tsharkCount(file, 'tcp.flags.reset==1'),
    ours((flow) => flow.resets.length),
  );
}

test('a slice around one request, cut to its peer, holds that flow and only it', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const noise = request(silent.port, 1500); // another peer, in the same window
  const requests = [];
  for (let i = 0; i < 3; i++) {
    requests.push(await request(web.port, 2000));
    await sleep(300);
  }
  await noise;
  const target = requests[1];
  assert.equal(target.outcome, 'status 200');
  const { analysis, slice, file } = await sliceAround('one-request', target, web.port);
  assert.equal(analysis.tcpFlows.length, 1, analysis.tcpFlows.map((flow) => flow.client.port).join());
  const [flow] = analysis.tcpFlows;
  assert.equal(flow.client.port, target.localPort);
  assert.equal(flow.server.port, web.port);
  assert.equal(flow.handshakeComplete && flow.finFromClient && flow.finFromServer, true);
  assert.ok(flow.bytesFromServer > 0);
  assert.equal(analysis.verdict, 'ok');
  assert.ok(slice.filesRead >= 1 && slice.bytesRead <= slice.ringBytes);
  console.log(
    `slice: ${slice.packets} packets in ${slice.durationMs.toFixed(1)} ms, read ${slice.bytesRead} of ${slice.ringBytes} ring bytes from ${slice.filesRead} file(s)`,
  );
  await assertAgreesWithTshark(file, analysis);
});

test('a server that accepts and never answers: the slice says so', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const run = await request(silent.port, 400);
  assert.equal(run.outcome, 'timeout');
  const { analysis, file } = await sliceAround('silent', run, silent.port);
  assert.equal(analysis.tcpFlows.length, 1);
  assert.equal(analysis.tcpFlows[0].client.port, run.localPort);
  assert.equal(analysis.verdict, 'no_response');
  assert.equal(
    analysis.diagnosis,
    `server 127.0.0.1:${silent.port} accepted the connection but never answered: 1 request sent, no response data`,
  );
  await assertAgreesWithTshark(file, analysis);
});

test('a server that resets the connection: "reset by server"', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const run = await request(resetPort, 2000);
  assert.match(run.outcome, /ECONNRESET|socket hang up/);
  const { analysis, file } = await sliceAround('reset', run, resetPort);
  assert.equal(analysis.verdict, 'reset_by_server');
  assert.equal(
    analysis.diagnosis,
    `server 127.0.0.1:${resetPort} reset the connection (RST) after the handshake: 1 request sent, no response data`,
  );
  assert.deepEqual(
    analysis.tcpFlows[0].resets.map((reset) => reset.from),
    ['server'],
  );
  await assertAgreesWithTshark(file, analysis);
});

test('TLS handshakes refused with alerts: the headers-only slice keeps the SNI, the certificate and the alerts', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const handshake = (options: tls.ConnectionOptions) =>
    new Promise<{ start: number; end: number; outcome: string }>((resolve) => {
      const start = Date.now();
      const socket = tls.connect({
        host: '127.0.0.1',
        port: tlsPort,
        servername: 'pathwatch.test',
        ...options,
      });
      socket.on('secureConnect', () => socket.end());
      socket.on('error', (error) => resolve({ start, end: Date.now(), outcome: error.message }));
      socket.on('close', () => resolve({ start, end: Date.now(), outcome: 'closed' }));
    });
  // The server answers a TLS 1.3-only ClientHello with a protocol_version alert; the client
  // rejects the server's certificate (an unknown CA) with an alert of its own.
  const versions = await handshake({ minVersion: 'TLSv1.3' });
  const untrusted = await handshake({ maxVersion: 'TLSv1.2' });
  assert.match(versions.outcome, /protocol version|alert/i);
  assert.match(untrusted.outcome, /certificate/i);
  const { analysis, file } = await sliceAround('tls', { start: versions.start, end: untrusted.end }, tlsPort);
  assert.equal(analysis.verdict, 'tls_alert');
  assert.match(analysis.diagnosis, /TLS alert protocol_version .* for pathwatch\.test/);
  assert.ok(analysis.tcpFlows.every((flow) => flow.tlsServerName === 'pathwatch.test'));
  assert.equal(await tsharkCount(file, 'tls.handshake.extensions_server_name == "pathwatch.test"'), 2);
  assert.equal(await tsharkCount(file, 'tls.handshake.type == 11'), 1, 'the Certificate message');
  assert.equal(await tsharkCount(file, 'tls.alert_message'), 2);
  await assertAgreesWithTshark(file, analysis);
});

test('by default the ring itself never holds a payload: an Authorization header sent over http:// is not on disk', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const token = 'ring-secret-7f3a9c1e';
  const rings = {
    headers: new TcpdumpRing({
      dir: join(dir, 'cut-ring'),
      interface: 'lo',
      filter: `tcp port ${web.port}`,
      ringSize: 2_000_000,
      fileSize: 1_000_000,
      maxAge: 600_000,
      snaplen: 262_144,
      bufferSize: 1024 * 1024,
    }),
    // The same traffic kept whole: shows the token is there to be found.
    full: new TcpdumpRing({
      dir: join(dir, 'full-ring'),
      interface: 'lo',
      filter: `tcp port ${web.port}`,
      ringSize: 2_000_000,
      fileSize: 1_000_000,
      maxAge: 600_000,
      snaplen: 262_144,
      payload: 'full',
      bufferSize: 1024 * 1024,
    }),
  };
  await rings.headers.start();
  await rings.full.start();
  let end = 0;
  try {
    const response = await fetch(`http://127.0.0.1:${web.port}/?q=${token}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(await response.text(), 'ok');
    end = Date.now();
    for (const each of Object.values(rings)) {
      assert.ok((await waitForWindow(each.dir, end, 5000)).ready, 'the ring holds the request');
    }
  } finally {
    await rings.headers.stop();
    await rings.full.stop();
  }
  const contents = async (ringDir: string) => {
    const files = await listRingFiles(ringDir);
    return Buffer.concat(await Promise.all(files.map((file) => readFile(file.path))));
  };
  const cut = await contents(rings.headers.dir);
  const whole = await contents(rings.full.dir);
  assert.ok(whole.includes(`Bearer ${token}`), 'the full ring holds the header');
  assert.equal(cut.includes(token), false, 'the default ring holds no payload');
  // The cut ring still holds every packet of the exchange, SYN to FIN.
  const count = async (ringDir: string) => {
    let packets = 0;
    for (const file of await listRingFiles(ringDir)) {
      packets += (await analyzeCapture(file.path)).packets;
    }
    return packets;
  };
  assert.equal(await count(rings.headers.dir), await count(rings.full.dir));
  assert.ok(cut.length < whole.length);
});

test('under sustained load the ring stays within its byte budget', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const receiver = createSocket('udp4');
  receiver.bind(0, '127.0.0.1');
  await once(receiver, 'listening');
  const port = receiver.address().port;
  const budget = new TcpdumpRing({
    dir: join(dir, 'budget'),
    interface: 'lo',
    filter: `udp port ${port}`,
    ringSize: 3_000_000,
    fileSize: 1_000_000,
    maxAge: 600_000,
    snaplen: 262_144,
    // Payloads kept: the budget is about bytes on disk, and cut packets would not fill it.
    payload: 'full',
    bufferSize: 16 * 1024 * 1024,
  });
  await budget.start();
  const sender = createSocket('udp4');
  const payload = Buffer.alloc(100, 0x61);
  let maxBytes = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      maxBytes = Math.max(maxBytes, await ringBytes(budget.dir));
      await sleep(20);
    }
  })();
  try {
    // 30,000 × 158 captured bytes ≈ 4.7 MB through a 3 MB ring: it must wrap.
    for (let batch = 0; batch < 60; batch++) {
      await Promise.all(
        Array.from(
          { length: 500 },
          () => new Promise<void>((resolve) => sender.send(payload, port, '127.0.0.1', () => resolve())),
        ),
      );
      await sleep(30);
    }
    await sleep(1200);
  } finally {
    sampling = false;
    await sampler;
    await budget.stop();
    sender.close();
    receiver.close();
  }
  const health = budget.health();
  console.log(
    `ring budget: max ${maxBytes} bytes seen against ${health.budgetBytes} (${budget.fileCount} × ${budget.fileBytes} bytes), dropped ${health.dropped}`,
  );
  assert.equal(health.budgetBytes, 3_000_000);
  assert.equal(health.files, 3, 'the ring wrapped onto all its files');
  assert.equal(health.restarts, 0);
  assert.ok(maxBytes > 2_000_000, `the load filled the ring (${maxBytes})`);
  // A file is begun anew before a packet would take the current one past its size.
  assert.ok(maxBytes <= health.budgetBytes, `${maxBytes} within the budget`);
  assert.ok(health.bytes <= health.budgetBytes);

  // A window inside one file reads only that file, not the whole ring.
  const files = await listRingFiles(budget.dir);
  const middle = files[1];
  const slice = await sliceWindow({
    ringDir: budget.dir,
    // Just after the file's first packet: the previous file ends at or before it.
    from: middle.firstPacketMs + 1,
    to: middle.firstPacketMs + 100,
    outputPath: join(dir, 'budget-slice.pcap'),
  });
  console.log(
    `budget slice: ${slice.packets} packets in ${slice.durationMs.toFixed(1)} ms, read ${slice.bytesRead} of ${slice.ringBytes} ring bytes from ${slice.filesRead} of ${files.length} files`,
  );
  assert.equal(slice.filesRead, 1);
  assert.ok(slice.packets > 0);
  assert.ok(slice.bytesRead <= middle.bytes);
});

test('tcpdump that dies is restarted, and its health says so', async (t) => {
  if (unavailable) return t.skip(unavailable);
  let startedPid: number | undefined;
  const restarting = new TcpdumpRing({
    dir: join(dir, 'restart-ring'),
    interface: 'lo',
    filter: `tcp port ${web.port}`,
    ringSize: 4_000_000,
    fileSize: 2_000_000,
    maxAge: 600_000,
    snaplen: 262_144,
    bufferSize: 1024 * 1024,
    restartBackoff: { initialMs: 200, maxMs: 1000 },
    onEvent: (event) => {
      if (event.type === 'started') startedPid ??= event.pid;
    },
  });
  await restarting.start();
  try {
    // This ring's own tcpdump, by the pid it reported: other rings of this file run too.
    const victim = startedPid;
    assert.ok(victim, 'the ring reported its tcpdump');
    process.kill(victim, 'SIGKILL');
    let health = restarting.health();
    for (let attempt = 0; attempt < 100 && !(health.restarts >= 1 && health.running); attempt++) {
      await sleep(100);
      health = restarting.health();
    }
    assert.equal(health.restarts, 1, JSON.stringify(health));
    assert.equal(health.running, true);
    assert.ok(health.lastError, 'the death is recorded');
  } finally {
    await restarting.stop();
  }
  assert.equal(restarting.health().running, false);
});
