import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { analyzeCapture } from '../../capture/analyze-capture.ts';
import type { CaptureAnalysis } from '../../capture/capture-analysis.ts';
import { checkCapturePermission } from '../../capture/capture-permission.ts';
import { sliceWindow, waitForWindow } from '../../capture/slice-window.ts';
import { TcpdumpRing } from '../../capture/tcpdump-ring.ts';
import { createNetnsPair, type NetnsPair } from '../helpers/capture-netns.ts';
import { conversationKey, tsharkConversations, tsharkCount } from '../helpers/capture-tshark.ts';

let unavailable: string | undefined;
let net: NetnsPair | undefined;
let dir: string;
let ring: TcpdumpRing | undefined;
let server: ChildProcess | undefined;

/** Accepts on 198.18.0.2:8080 and reads without answering. */
const SERVER_SCRIPT = `
const server = require('node:net').createServer((socket) => socket.on('data', () => {}));
server.listen(8080, '198.18.0.2', () => console.log('listening'));
`;

/** Connects to PORT, says "connected", waits for a line on stdin, sends a request, gives up after HOLD ms. */
const CLIENT_SCRIPT = `
const [port, hold, waitForGo] = process.argv.slice(1).map(Number);
const started = Date.now();
const socket = require('node:net').connect(port, '198.18.0.2');
socket.on('error', () => {});
const finish = () => { socket.destroy(); console.log('done ' + started + ' ' + Date.now() + ' ' + (socket.localPort ?? '')); process.exit(0); };
socket.on('connect', () => {
  console.log('connected');
  const send = () => { socket.write('GET / HTTP/1.1\\r\\nhost: shop\\r\\n\\r\\n'); setTimeout(finish, hold); };
  if (waitForGo) process.stdin.once('data', send); else send();
});
if (!waitForGo) setTimeout(finish, hold);
`;

before(async () => {
  try {
    await checkCapturePermission();
  } catch (error) {
    unavailable = (error as Error).message;
    console.log(`capture tests skipped: ${unavailable}`);
    return;
  }
  try {
    net = await createNetnsPair();
  } catch (error) {
    unavailable = `cannot create network namespaces (ip netns): ${(error as Error).message.split('\n')[0]}`;
    console.log(`netns capture tests skipped: ${unavailable}`);
    return;
  }
  dir = await mkdtemp(join(tmpdir(), 'pwcap-netns-'));
  await net.exec(net.server, ['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '443', '-j', 'DROP']);
  server = net.spawnIn(net.server, [process.execPath, '-e', SERVER_SCRIPT]);
  await waitForLine(server, /listening/);
  ring = new TcpdumpRing({
    dir: join(dir, 'ring'),
    netns: net.client,
    interface: net.clientIf,
    filter: 'tcp',
    ringSize: 4_000_000,
    fileSize: 1_000_000,
    maxAge: 600_000,
    snaplen: 262_144,
    bufferSize: 4 * 1024 * 1024,
  });
  await ring.start();
});

after(async () => {
  await ring?.stop();
  server?.kill('SIGKILL');
  await net?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Resolves with the first stdout line matching `pattern` (stdout is read once, by one listener). */
function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.setEncoding('utf8');
    const onData = (chunk: string) => {
      text += chunk;
      const line = text.split('\n').find((candidate) => pattern.test(candidate));
      if (line) {
        child.stdout!.off('data', onData);
        resolve(line);
      }
    };
    child.stdout!.on('data', onData);
    child.once('close', () => reject(new Error(`process ended without printing ${pattern}: ${text}`)));
  });
}

async function sliceRun(
  name: string,
  start: number,
  end: number,
  port: number,
): Promise<[CaptureAnalysis, string]> {
  const to = end + 100;
  const ready = await waitForWindow(ring!.dir, to, 5000);
  assert.ok(ready.ready, JSON.stringify(ready));
  const file = join(dir, `${name}.pcap`);
  await sliceWindow({
    ringDir: ring!.dir,
    from: start - 100,
    to,
    peers: [{ ip: net!.serverIp, port }],
    outputPath: file,
  });
  return [await analyzeCapture(file), file];
}

async function assertAgreesWithTshark(file: string, analysis: CaptureAnalysis): Promise<void> {
  const conversations = await tsharkConversations(file);
  assert.deepEqual(
    conversations.map((conversation) => [conversation.key, conversation.frames]),
    analysis.tcpFlows.map((flow) => [
      conversationKey(`${flow.client.ip}:${flow.client.port}`, `${flow.server.ip}:${flow.server.port}`),
      flow.packets,
    ]),
  );
  const retransmissions = analysis.tcpFlows.reduce((sum, flow) => sum + flow.retransmissions, 0);
  assert.equal(await tsharkCount(file, 'tcp.analysis.retransmission'), retransmissions);
  const resets = analysis.tcpFlows.reduce((sum, flow) => sum + flow.resets.length, 0);
  assert.equal(await tsharkCount(file, 'tcp.flags.reset==1'), resets);
}

test('SYNs dropped: retransmissions counted; one vantage point does not name the path or the target', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const client = net!.spawnIn(net!.client, [process.execPath, '-e', CLIENT_SCRIPT, '443', '3500', '0']);
  const [, start, end] = (await waitForLine(client, /^done /)).split(' ').map(Number);
  const [analysis, file] = await sliceRun('dropped-syn', start, end, 443);
  assert.equal(analysis.tcpFlows.length, 1);
  const [flow] = analysis.tcpFlows;
  assert.ok(flow.synsSent >= 3, `${flow.synsSent} SYNs`);
  assert.equal(flow.synRetransmissions, flow.synsSent - 1);
  assert.equal(flow.synAcks, 0);
  assert.equal(analysis.verdict, 'dropped');
  assert.equal(
    analysis.diagnosis,
    `${flow.synsSent} SYNs to 198.18.0.2:443 got no answer: packets are lost on the way or dropped by the target (no other location's run of this slot to tell which)`,
  );
  await assertAgreesWithTshark(file, analysis);
});

test('data dropped after the handshake: data retransmissions counted and diagnosed', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const client = net!.spawnIn(net!.client, [process.execPath, '-e', CLIENT_SCRIPT, '8080', '2500', '1']);
  // The handshake is through; from now on the server side drops what the client sends.
  await waitForLine(client, /^connected/);
  const done = waitForLine(client, /^done /);
  await net!.exec(net!.server, ['iptables', '-I', 'INPUT', '-p', 'tcp', '--dport', '8080', '-j', 'DROP']);
  client.stdin!.write('go\n');
  const [, start, end] = (await done).split(' ').map(Number);
  const [analysis, file] = await sliceRun('dropped-data', start, end, 8080);
  assert.equal(analysis.tcpFlows.length, 1);
  const [flow] = analysis.tcpFlows;
  assert.equal(flow.handshakeComplete, true);
  assert.ok(
    flow.fromClient.dataRetransmissions >= 2,
    `${flow.fromClient.dataRetransmissions} data retransmissions`,
  );
  assert.equal(analysis.verdict, 'dropped');
  assert.match(
    analysis.diagnosis,
    /^server 198\.18\.0\.2:8080 accepted the connection, then \d+ retransmissions of the request got no answer: packets are lost on the way or dropped by the target/,
  );
  await assertAgreesWithTshark(file, analysis);
});
