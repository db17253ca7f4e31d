/**
 * Alert latency: from the end of the run that confirms a check DOWN to the alert mail
 * accepted by an SMTP server on loopback, over many alerts, beside Prometheus Alertmanager
 * (Debian's prometheus-alertmanager, `group_wait: 0s`, one group per alert) taking the same
 * number of alerts from its API to the same kind of server. Reports median, p99 and max, and
 * the ratios. Goal (issue 14): pathwatch's p99 under 2 s.
 *
 * pathwatch's path is the whole of it: the run recorded (state, incident), its alerts queued,
 * the alert worker's gate (verdict, maintenance, storm count), the evidence read (state
 * table, failing run, timings) and the mail rendered and sent through the pooled transport.
 * The storm threshold is raised above the count: a storm would fold them into one digest.
 *
 *   npx tsx bench/alerts.ts [--count 200] [--every 25]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { SMTPServer } from 'smtp-server';
import { parseConfig } from '../src/config/load-config.ts';
import { freePort, startPrivateRedisServer } from '../src/redis/private-redis-server.ts';
import { createLogger } from '../src/util/logger.ts';
import { runOf, startAlertPipeline } from '../test/helpers/alert-pipeline.ts';
import { mailHeader } from '../test/helpers/mail-headers.ts';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '200' }, every: { type: 'string', default: '25' } },
});
const COUNT = Number(values.count);
/** Milliseconds between two alerts: a steady stream, not one burst. */
const EVERY_MS = Number(values.every);
const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

/** An SMTP server that notes when each mail was accepted, by a name found in its subject. */
async function startTimingSmtp(nameOf: (subject: string) => string | undefined) {
  const accepted = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const name = nameOf(mailHeader(Buffer.concat(chunks).toString('utf8'), 'Subject') ?? '');
        if (name && !accepted.has(name)) accepted.set(name, Date.now());
        callback(null, 'Ok');
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  return {
    port: (server.server.address() as AddressInfo).port,
    accepted,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function stats(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { n: sorted.length, median: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function benchPathwatch(dir: string) {
  const redis = await startPrivateRedisServer(dir);
  const smtp = await startTimingSmtp((subject) => /DOWN (c-\d+)/.exec(subject)?.[1]);
  const ids = Array.from({ length: COUNT }, (_, index) => `c-${index}`);
  const config = await parseConfig(
    {
      locations: { inside: {} },
      checks: ids.map((id) => ({ id, kind: 'http', http: { url: 'http://127.0.0.1:1/' } })),
      redis: { prefix: 'bench-alerts' },
      dataDir: join(dir, 'data'),
      alerting: {
        smtp: { host: '127.0.0.1', port: smtp.port },
        from: 'pathwatch@example.test',
        to: ['oncall@example.test'],
        storm: { threshold: COUNT + 1 },
        reminders: { max: 0 },
      },
    },
    join(dir, 'bench.yaml'),
  );
  const pipeline = startAlertPipeline(config, createLogger('bench-alerts', 'silent'), {
    redisUrl: redis.url,
  });
  const stopBeat = pipeline.recorder.workers.start('inside');
  pipeline.startWorker();
  const ended = new Map<string, number>();
  for (const id of ids) {
    const run = runOf(id, 'inside', 'fail');
    run.finishedAt = Date.now();
    ended.set(id, run.finishedAt);
    await pipeline.record(run, ['inside']);
    await sleep(EVERY_MS);
  }
  await waitFor('every pathwatch mail', () => smtp.accepted.size === COUNT, 60_000);
  const latencies = ids.map((id) => (smtp.accepted.get(id) ?? Number.NaN) - (ended.get(id) ?? 0));
  await stopBeat();
  await pipeline.stop();
  await smtp.close();
  await redis.stop();
  return stats(latencies);
}

async function benchAlertmanager(dir: string) {
  if (!existsSync(ALERTMANAGER)) {
    return { skipped: `${ALERTMANAGER} not installed (apt-get install -y prometheus-alertmanager)` };
  }
  const smtp = await startTimingSmtp((subject) => /(a-\d+)/.exec(subject)?.[1]);
  const port = await freePort();
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(
    configFile,
    [
      'global:',
      `  smtp_smarthost: "127.0.0.1:${smtp.port}"`,
      '  smtp_from: "am@example.test"',
      '  smtp_require_tls: false',
      'route:',
      '  receiver: mail',
      "  group_by: ['...']",
      '  group_wait: 0s',
      '  group_interval: 1m',
      '  repeat_interval: 4h',
      'receivers:',
      '  - name: mail',
      '    email_configs:',
      '      - to: "oncall@example.test"',
      '        send_resolved: false',
      '',
    ].join('\n'),
  );
  const child = spawn(
    ALERTMANAGER,
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'am-data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let tries = 0; ; tries++) {
      const ready = await fetch(`${base}/-/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) break;
      if (tries > 100) throw new Error(`alertmanager did not start: ${stderr.trim().split('\n').at(-1)}`);
      await sleep(100);
    }
    const sent = new Map<string, number>();
    for (let index = 0; index < COUNT; index++) {
      const name = `a-${index}`;
      const at = Date.now();
      sent.set(name, at);
      const response = await fetch(`${base}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          { labels: { alertname: name, severity: 'page' }, startsAt: new Date(at).toISOString() },
        ]),
      });
      if (!response.ok) throw new Error(`alertmanager refused an alert: ${response.status}`);
      await sleep(EVERY_MS);
    }
    await waitFor('every alertmanager mail', () => smtp.accepted.size === COUNT, 120_000);
    return stats([...sent].map(([name, at]) => (smtp.accepted.get(name) ?? Number.NaN) - at));
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit').catch(() => {});
    await smtp.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'pw-bench-alerts-'));
try {
  const pathwatch = await benchPathwatch(dir);
  const peer = await benchAlertmanager(dir);
  const line = (name: string, s: { n: number; median: number; p99: number; max: number }) =>
    `${name.padEnd(14)} n=${s.n}  median ${s.median.toFixed(0)} ms  p99 ${s.p99.toFixed(0)} ms  max ${s.max.toFixed(0)} ms`;
  console.log(
    `alerts: ${COUNT}, one every ${EVERY_MS} ms; latency from the run's end (peer: the API call) to the mail accepted`,
  );
  console.log(line('pathwatch', pathwatch));
  if ('skipped' in peer) console.log(`alertmanager   skipped: ${peer.skipped}`);
  else {
    console.log(line('alertmanager', peer));
    console.log(
      `ratio pathwatch/alertmanager: median ${(pathwatch.median / peer.median).toFixed(2)}×, p99 ${(pathwatch.p99 / peer.p99).toFixed(2)}×`,
    );
  }
  console.log(`goal p99 < 2000 ms: ${pathwatch.p99 < 2000 ? 'met' : 'NOT met'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
