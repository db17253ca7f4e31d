/**
 * Evidence served to people: the run page and the escalation bundle of a failed run whose
 * capture slice is 50 MB, through a listening API, beside a plain static file server
 * (python3 -m http.server) serving the same pcap as the peer. Reports the time to the page
 * ready, the bundle's first byte and its last, and the peer's first and last byte, as
 * medians of several rounds, and the ratios. Goal (issue 13): page and first byte under 1 s.
 *
 *   npx tsx bench/evidence.ts [--mb 50] [--rounds 7]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PcapWriter } from '../capture/pcap-writer.ts';
import { freePort } from '../src/redis/private-redis-server.ts';
import { runRecord, startEvidenceApp } from '../test/helpers/evidence-app.ts';

const { values } = parseArgs({
  options: { mb: { type: 'string', default: '50' }, rounds: { type: 'string', default: '7' } },
});
const BYTES = Number(values.mb) * 1024 * 1024;
const ROUNDS = Number(values.rounds);

/** A pcap of about `bytes` of TCP-sized frames with random payloads: nothing compresses. */
async function writePcap(path: string, bytes: number): Promise<void> {
  const writer = await PcapWriter.create(path, { linkType: 1 });
  const payload = randomBytes(1 << 20);
  for (let index = 0; writer.bytes < bytes; index++) {
    const offset = (index * 1400) % (payload.length - 1400);
    writer.write({
      timestampUs: 1_765_000_000_000_000 + index * 100,
      data: payload.subarray(offset, offset + 1400),
    });
  }
  await writer.close();
}

/** Milliseconds to the first body byte and to the end of one GET. */
function timeGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ first: number; last: number; bytes: number; status: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (response) => {
        let first = -1;
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          if (first < 0) first = performance.now() - started;
          bytes += chunk.length;
        });
        response.on('end', () =>
          resolve({ first, last: performance.now() - started, bytes, status: response.statusCode ?? 0 }),
        );
      })
      .on('error', reject);
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const evidence = await startEvidenceApp('bench-evidence');
const peerPort = await freePort();
try {
  const runId = 'benchrun0000000000000001';
  const pcapDir = join(evidence.dir, 'peer');
  mkdirSync(pcapDir);
  const pcapPath = join(pcapDir, 'capture.pcap');
  await writePcap(pcapPath, BYTES);
  const { createReadStream, statSync } = await import('node:fs');
  const pcap = await evidence.store.put(
    `runs/${runId}/capture.pcap`,
    createReadStream(pcapPath),
    'application/vnd.tcpdump.pcap',
  );
  const analysis = await evidence.store.put(
    `runs/${runId}/capture-analysis.txt`,
    Buffer.from('1 flow to 127.0.0.1:4601: the server reset the connection after the request\n'),
    'text/plain; charset=utf-8',
  );
  const startedAt = Date.now() - 60_000;
  await evidence.recorder.runs.save(
    runRecord({
      runId,
      startedAt,
      scheduledAt: startedAt - 5,
      status: 'fail',
      error: {
        class: 'reset',
        code: 'CONNECTION_RESET',
        message: 'connection reset by 127.0.0.1:4601',
        phase: 'firstByte',
      },
      artifacts: [pcap, analysis].map((stored, index) => ({
        kind: index === 0 ? 'pcap' : 'analysis',
        key: stored.key,
        bytes: stored.bytes,
        contentType: stored.contentType,
      })),
    }),
  );
  const address = await evidence.app.listen({ host: '127.0.0.1', port: 0 });
  const peer = spawn(
    'python3',
    ['-m', 'http.server', String(peerPort), '--bind', '127.0.0.1', '--directory', pcapDir],
    {
      stdio: 'ignore',
    },
  );
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await timeGet(`http://127.0.0.1:${peerPort}/`);
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const operator = evidence.as('operator');
  const page = `${address}/runs/${runId}`;
  const hasPage = (await timeGet(page, operator)).status === 200;
  const rows: Record<string, { first: number[]; last: number[] }> = {
    'run page': { first: [], last: [] },
    'bundle (pathwatch)': { first: [], last: [] },
    'pcap (pathwatch)': { first: [], last: [] },
    'pcap (python http.server)': { first: [], last: [] },
  };
  for (let round = 0; round < ROUNDS; round++) {
    if (hasPage) {
      const got = await timeGet(page, operator);
      rows['run page'].first.push(got.first);
      rows['run page'].last.push(got.last);
    }
    for (const [row, url, headers] of [
      ['bundle (pathwatch)', `${address}/api/v1/runs/${runId}/bundle`, operator],
      ['pcap (pathwatch)', `${address}/api/v1/runs/${runId}/artifacts/capture.pcap`, operator],
      ['pcap (python http.server)', `http://127.0.0.1:${peerPort}/capture.pcap`, {}],
    ] as const) {
      const got = await timeGet(url, headers);
      if (got.status !== 200) throw new Error(`${row}: status ${got.status}`);
      rows[row].first.push(got.first);
      rows[row].last.push(got.last);
    }
  }
  peer.kill();
  await once(peer, 'exit');
  const peerFirst = median(rows['pcap (python http.server)'].first);
  const peerLast = median(rows['pcap (python http.server)'].last);
  console.log(
    `\nevidence of a failed run with a ${values.mb} MB slice (${statSync(pcapPath).size} bytes), median of ${ROUNDS} rounds\n`,
  );
  console.log('what                         first byte ms   ratio   ready/last byte ms   ratio');
  for (const [name, row] of Object.entries(rows)) {
    if (row.first.length === 0) {
      console.log(`${name.padEnd(28)} (not served by this build)`);
      continue;
    }
    const first = median(row.first);
    const last = median(row.last);
    console.log(
      `${name.padEnd(28)} ${first.toFixed(1).padStart(13)}  ${(first / peerFirst).toFixed(2).padStart(5)}x  ${last.toFixed(1).padStart(19)}  ${(last / peerLast).toFixed(2).padStart(5)}x`,
    );
  }
  console.log(
    '\nratios against python3 -m http.server serving the same pcap (lower is better); goal: page ready and bundle first byte under 1000 ms',
  );
} finally {
  await evidence.close();
}
