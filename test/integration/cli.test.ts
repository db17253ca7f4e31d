import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/run-cli.ts';
import { closedPort, startHttpServer, startSilentServer, type TestServer } from '../helpers/test-servers.ts';

let server: TestServer;
let silent: TestServer;
let configFile: string;
let refusedPort: number;

before(async () => {
  server = await startHttpServer((request, response) => {
    response.statusCode = request.url === '/boom' ? 500 : 200;
    response.end(request.url === '/boom' ? 'broken' : 'ok');
  });
  silent = await startSilentServer();
  refusedPort = await closedPort();
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-cli-'));
  configFile = join(dir, 'pathwatch.config.yaml');
  writeFileSync(
    configFile,
    [
      'locations:',
      '  inside: {}',
      'checks:',
      `  - { id: ok, kind: http, http: { url: "${server.url}/" } }`,
      `  - { id: refused, kind: http, http: { url: "http://127.0.0.1:${refusedPort}/" } }`,
      `  - { id: silent, kind: http, timeout: 500ms, http: { url: "${silent.url}/" } }`,
      `  - { id: boom, kind: http, http: { url: "${server.url}/boom" } }`,
      '',
    ].join('\n'),
  );
});

after(async () => {
  await server.close();
  await silent.close();
});

test('validate: the bundled example is valid and summarized', async () => {
  const result = await runCli(['validate', '--config', 'pathwatch.config.ts']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /pathwatch\.config\.ts: OK/);
  assert.match(result.stdout, /http: inside \d+, outside \d+/);
});

test('validate: five mistakes are listed with their paths, exit 1', async () => {
  const result = await runCli(['validate', '--config', 'test/fixtures/config/five-mistakes.yaml']);
  assert.equal(result.code, 1);
  const lines = result.stderr.trim().split('\n');
  assert.match(lines[0], /five-mistakes\.yaml: 5 problems/);
  for (const path of [
    'checks[0].kind',
    'checks[1].interval',
    'checks[2].http.url',
    'checks[3].intervall',
    'checks[4].locations[1]',
  ]) {
    assert.ok(
      lines.some((line) => line.trim().startsWith(`${path}:`)),
      `${path} is reported:\n${result.stderr}`,
    );
  }
});

test('run: a pass prints every phase and the status, exit 0', async () => {
  const result = await runCli(['run', 'ok', '--config', configFile]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /^ok \(http\) at local: PASS/);
  assert.match(
    result.stdout,
    /dns - \| connect [\d.]+ ms \| tls - \| first byte [\d.]+ ms \| download [\d.]+ ms \| total [\d.]+ ms/,
  );
  assert.match(result.stdout, /status 200/);
});

test('run: refused, timeout and 500 each give a one-line reason, exit 1', async () => {
  const refused = await runCli(['run', 'refused', '--config', configFile]);
  assert.equal(refused.code, 1);
  assert.equal(
    refused.stdout.split('\n')[0],
    `refused (http) at local: FAIL (refused) connect to 127.0.0.1:${refusedPort} refused`,
  );
  const silentRun = await runCli(['run', 'silent', '--config', configFile]);
  assert.equal(silentRun.code, 1);
  assert.equal(
    silentRun.stdout.split('\n')[0],
    `silent (http) at local: FAIL (timeout) 127.0.0.1:${silent.port} accepted the connection but sent no response within 500 ms`,
  );
  const boom = await runCli(['run', 'boom', '--config', configFile]);
  assert.equal(boom.code, 1);
  assert.equal(
    boom.stdout.split('\n')[0],
    `boom (http) at local: FAIL (assertion) GET ${server.url}/boom: status 2xx: expected 2xx, got 500`,
  );
});

test('run --json prints the RunResult', async () => {
  const result = await runCli(['run', 'ok', '--json', '--config', configFile]);
  assert.equal(result.code, 0);
  const run = JSON.parse(result.stdout);
  assert.equal(run.status, 'pass');
  assert.equal(run.checkId, 'ok');
  assert.deepEqual(run.peers, [{ ip: '127.0.0.1', port: server.port }]);
});

test('run: an unknown check id or a broken config is a usage error, exit 2', async () => {
  const unknown = await runCli(['run', 'nope', '--config', configFile]);
  assert.equal(unknown.code, 2);
  assert.match(
    unknown.stderr,
    /no check or journey "nope" in .*; checks: ok, refused, silent, boom; journeys: \(none\)/,
  );
  const broken = await runCli(['run', 'x', '--config', 'test/fixtures/config/five-mistakes.yaml']);
  assert.equal(broken.code, 2);
  const usage = await runCli(['run']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /missing required argument 'id\|file\|folder'/);
});

test('start: REDIS_URL unreachable gives one line naming REDIS_URL, exit 2, nothing started', async () => {
  const port = await closedPort();
  const result = await runCli(['start', '--config', configFile, '--api-port', '0'], {
    env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}`, PATHWATCH_LOG_LEVEL: 'silent' },
  });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '', 'no part of the stack reported starting');
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, result.stderr);
  assert.match(
    lines[0],
    new RegExp(
      `^cannot reach Redis at REDIS_URL=redis://127\\.0\\.0\\.1:${port}.*apt-get install redis-server`,
    ),
  );
});

test('start: no REDIS_URL and no redis-server on PATH gives one line on how to fix it, exit 2', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: '/nonexistent', PATHWATCH_LOG_LEVEL: 'silent' };
  delete env.REDIS_URL;
  const result = await runCli(['start', '--config', configFile, '--api-port', '0'], { env });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, '');
  assert.equal(
    result.stderr.trim(),
    'REDIS_URL is not set and redis-server is not on PATH: set REDIS_URL=redis://HOST:6379 to use an existing Redis, or install Redis (Debian: apt-get install redis-server)',
  );
});

test('--help documents every command', async () => {
  const result = await runCli(['--help']);
  assert.equal(result.code, 0);
  for (const command of ['validate', 'run', 'start', 'server', 'worker', 'demo-shop']) {
    assert.match(result.stdout, new RegExp(`\\n  ${command}\\b`));
  }
});

test('analyze prints the diagnosis of a pcap; a file that is not a pcap is a clear usage error', async () => {
  const result = await runCli(['analyze', 'test/fixtures/pcap/tls-protocol-version-sll2.pcap']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^diagnosis: server 127\.0\.0\.1:\d+ sent TLS alert protocol_version \(fatal, 70\) for shop\.example$/m,
  );
  const json = JSON.parse(
    (await runCli(['analyze', '--json', 'test/fixtures/pcap/tls-protocol-version-sll2.pcap'])).stdout,
  );
  assert.equal(json.tcpFlows.length, 1);
  const notPcap = await runCli(['analyze', 'package.json']);
  assert.equal(notPcap.code, 2);
  assert.match(notPcap.stderr.trim(), /^pathwatch analyze: package\.json: /);
});
