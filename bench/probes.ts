/**
 * Probes per CPU-second: pathwatch against prometheus-blackbox-exporter (Debian package) on
 * the same http, tcp and dns targets, in one run. Targets live in this driver process; the
 * CPU counted is the prober's own (pathwatch: its probe loop; exporter: its process, read
 * from /proc), so the driver and the targets are billed to neither.
 *
 *   npx tsx bench/probes.ts [--count 10000] [--concurrency 10]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startPrivateRedisServer } from '../src/redis/private-redis-server.ts';
import { startTestDnsServer } from '../test/helpers/test-dns-server.ts';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '10000' }, concurrency: { type: 'string', default: '10' } },
});
const COUNT = Number(values.count);
const CONCURRENCY = Number(values.concurrency);
const EXPORTER = '/usr/bin/prometheus-blackbox-exporter';
const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

interface Measurement {
  cpuSeconds: number;
  wallSeconds: number;
  passed: number;
}

/**
 * The targets. http and tcp get a new server on a new port for every measurement: a run of
 * 10,000 connections leaves as many TIME_WAIT entries on its port, and the next prober to
 * connect to that port would pay for them (connect() searching for a free ephemeral port, a
 * kernel cost billed to whoever connects), so the order of the measurements would decide
 * the ratios. DNS is one UDP server: UDP leaves nothing behind.
 */
async function startTargets() {
  const servers: Array<http.Server | net.Server> = [];
  const listen = async (server: http.Server | net.Server) => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    return (server.address() as net.AddressInfo).port;
  };
  const dns = await startTestDnsServer({ zone: [{ name: 'bench.test', type: 'A', data: '10.0.0.1' }] });
  return {
    newHttpPort: () => {
      const server = http.createServer((_request, response) => response.end('ok'));
      server.keepAliveTimeout = 1;
      return listen(server);
    },
    newTcpPort: () => listen(net.createServer((socket) => socket.end())),
    dns,
    close: async () => {
      for (const server of servers) {
        if (server instanceof http.Server) server.closeAllConnections();
        server.close();
      }
      await dns.close();
    },
  };
}

type Targets = Awaited<ReturnType<typeof startTargets>>;

/** The check of `kind` against a fresh target (see startTargets). */
async function checkOf(kind: string, targets: Targets): Promise<Record<string, unknown>> {
  if (kind === 'http') return { kind, http: { url: `http://127.0.0.1:${await targets.newHttpPort()}/` } };
  if (kind === 'tcp') return { kind, tcp: { host: '127.0.0.1', port: await targets.newTcpPort() } };
  return { kind, dns: { server: `127.0.0.1:${targets.dns.port}`, query: 'bench.test', recordType: 'A' } };
}

const KINDS = ['http', 'tcp', 'dns'];

function runPathwatch(check: Record<string, unknown>): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/probe-loop.ts',
        JSON.stringify({ id: 'bench', ...check }),
        String(COUNT),
        String(CONCURRENCY),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PATHWATCH_LOG_LEVEL: 'silent' } },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`probe loop exited with ${code}: ${output}`));
      const result = JSON.parse(output.trim().split('\n').pop() ?? '{}');
      if (result.passed !== COUNT)
        console.error(`pathwatch ${check.kind}: ${COUNT - result.passed} runs did not pass`, result.failures);
      resolve(result);
    });
  });
}

/** The worker path: BullMQ job in, probe, result stored, on a private redis-server. */
function runPathwatchWorker(check: Record<string, unknown>, redisUrl: string): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/worker-loop.ts',
        JSON.stringify({ id: 'bench', ...check }),
        String(COUNT),
        String(CONCURRENCY),
        redisUrl,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PATHWATCH_LOG_LEVEL: 'silent' } },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`worker loop exited with ${code}: ${output}`));
      const result = JSON.parse(output.trim().split('\n').pop() ?? '{}');
      resolve(result);
    });
  });
}

function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // After "pid (comm) ", utime and stime are the 12th and 13th fields.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

async function probeExporter(base: string, module: string, target: string, count: number): Promise<number> {
  let started = 0;
  let passed = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const get = (url: string) =>
    new Promise<string>((resolve, reject) => {
      http
        .get(url, { agent }, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => {
            body += chunk;
          });
          response.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started < count) {
        started++;
        const body = await get(`${base}/probe?module=${module}&target=${encodeURIComponent(target)}`);
        if (/^probe_success 1$/m.test(body)) passed++;
      }
    }),
  );
  agent.destroy();
  return passed;
}

async function runExporter(targets: Targets) {
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-bench-'));
  const configFile = join(dir, 'blackbox.yml');
  writeFileSync(
    configFile,
    [
      'modules:',
      '  http_2xx: { prober: http, timeout: 5s, http: { preferred_ip_protocol: ip4 } }',
      '  tcp_connect: { prober: tcp, timeout: 5s, tcp: { preferred_ip_protocol: ip4 } }',
      '  dns_a: { prober: dns, timeout: 5s, dns: { query_name: bench.test, query_type: A, transport_protocol: udp, preferred_ip_protocol: ip4 } }',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const exporter = spawn(
    EXPORTER,
    [`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=error'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      if ((await fetch(`${base}/-/healthy`)).ok) break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const results: Record<string, Measurement> = {};
  const cases: Array<[string, string, () => Promise<string>]> = [
    ['http', 'http_2xx', async () => `http://127.0.0.1:${await targets.newHttpPort()}/`],
    ['tcp', 'tcp_connect', async () => `127.0.0.1:${await targets.newTcpPort()}`],
    ['dns', 'dns_a', async () => `127.0.0.1:${targets.dns.port}`],
  ];
  for (const [kind, module, targetOf] of cases) {
    const target = await targetOf();
    await probeExporter(base, module, target, 50); // warm-up
    const cpuBefore = processCpuSeconds(exporter.pid!);
    const wallBefore = performance.now();
    const passed = await probeExporter(base, module, target, COUNT);
    results[kind] = {
      cpuSeconds: processCpuSeconds(exporter.pid!) - cpuBefore,
      wallSeconds: (performance.now() - wallBefore) / 1000,
      passed,
    };
    if (passed !== COUNT) console.error(`blackbox ${kind}: ${COUNT - passed} probes did not succeed`);
  }
  exporter.kill('SIGTERM');
  await once(exporter, 'exit');
  return results;
}

if (!existsSync(EXPORTER)) {
  console.error(
    `${EXPORTER} is missing: install Debian's prometheus-blackbox-exporter to compare against it`,
  );
  process.exit(1);
}
const targets = await startTargets();
const redis = await startPrivateRedisServer(mkdtempSync(join(tmpdir(), 'pathwatch-bench-redis-')));
try {
  const engine: Record<string, Measurement> = {};
  const worker: Record<string, Measurement & { redisCpuSeconds: number }> = {};
  for (const kind of KINDS) {
    engine[kind] = await runPathwatch(await checkOf(kind, targets));
    const redisBefore = processCpuSeconds(redis.pid);
    const measured = await runPathwatchWorker(await checkOf(kind, targets), redis.url);
    worker[kind] = { ...measured, redisCpuSeconds: processCpuSeconds(redis.pid) - redisBefore };
  }
  const blackbox = await runExporter(targets);
  const rate = (passed: number, cpu: number) => passed / cpu;
  console.log(`\nprobes per CPU-second, ${COUNT} probes each, ${CONCURRENCY} in flight (higher is better)\n`);
  console.log('kind  blackbox  pathwatch probe   ratio   pathwatch worker   ratio   worker+redis   ratio');
  for (const kind of KINDS) {
    const theirs = rate(blackbox[kind].passed, blackbox[kind].cpuSeconds);
    const ours = rate(engine[kind].passed, engine[kind].cpuSeconds);
    const viaWorker = rate(worker[kind].passed, worker[kind].cpuSeconds);
    const withRedis = rate(worker[kind].passed, worker[kind].cpuSeconds + worker[kind].redisCpuSeconds);
    console.log(
      `${kind.padEnd(5)} ${theirs.toFixed(0).padStart(8)}  ${ours.toFixed(0).padStart(15)}  ${(ours / theirs).toFixed(2).padStart(5)}x  ${viaWorker.toFixed(0).padStart(17)}  ${(viaWorker / theirs).toFixed(2).padStart(5)}x  ${withRedis.toFixed(0).padStart(13)}  ${(withRedis / theirs).toFixed(2).padStart(5)}x`,
    );
  }
  console.log(
    '\nprobe: the probe through runCheck in a loop (what blackbox_exporter does per /probe request);' +
      '\nworker: the production path, a BullMQ job taken from Redis, the probe, the result stored in Redis;' +
      '\nworker+redis: that plus the CPU Redis spent serving it.',
  );
} finally {
  await redis.stop();
  await targets.close();
}
