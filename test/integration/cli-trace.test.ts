import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { zipSync } from 'fflate';
import { verifyLink } from '../../src/auth/signed-link.ts';
import { CLI, runCli } from '../helpers/run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'pw-cli-trace-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('trace <file> serves the viewer and that trace on loopback until stopped', async (t) => {
  const zip = Buffer.from(zipSync({ 'trace.trace': new TextEncoder().encode('{}\n') }));
  const file = join(dir, 'trace.zip');
  writeFileSync(file, zip);
  const child = spawn(process.execPath, [CLI, 'trace', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const url = new URL(line.toString().trim());
  assert.equal(url.hostname, 'localhost', 'the service worker needs a secure context: localhost');
  assert.equal(url.searchParams.get('trace'), '/trace.zip');
  const viewer = await fetch(url);
  assert.equal(viewer.status, 200);
  assert.match(await viewer.text(), /<html/i);
  const served = await fetch(new URL('/trace.zip', url));
  assert.deepEqual(Buffer.from(await served.arrayBuffer()), zip);
  child.kill('SIGINT');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});

test('trace <run-id> prints the API viewer on that run through a signed link', async () => {
  const key = 'k'.repeat(40);
  writeFileSync(
    join(dir, 'pathwatch.config.yaml'),
    'locations: { inside: {} }\napi: { linkKey: "${env:LINK_KEY}", publicUrl: "https://pathwatch.internal.test/" }\n',
  );
  const result = await runCli(['trace', 'abc123', '-c', join(dir, 'pathwatch.config.yaml')], {
    env: { ...process.env, LINK_KEY: key, PATHWATCH_LOG_LEVEL: 'silent' },
  });
  assert.equal(result.code, 0, result.stderr);
  const viewer = new URL(result.stdout.trim());
  assert.equal(`${viewer.origin}${viewer.pathname}`, 'https://pathwatch.internal.test/trace/');
  const trace = new URL(viewer.searchParams.get('trace') ?? '');
  assert.equal(trace.pathname, '/api/v1/runs/abc123/artifacts/trace.zip');
  const check = verifyLink(
    Buffer.from(key),
    'abc123',
    trace.searchParams.get('exp') ?? undefined,
    trace.searchParams.get('sig') ?? undefined,
  );
  assert.equal(check.ok, true);
});

test('trace with neither a file nor a run id is one line, exit 2', async () => {
  const missing = await runCli(['trace', join(dir, 'nope.zip')]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim(), `pathwatch trace: ${join(dir, 'nope.zip')}: no such file`);
  const badPort = await runCli(['trace', join(dir, 'trace.zip'), '--port', '70000']);
  assert.equal(badPort.code, 2);
  assert.equal(badPort.stderr.trim(), 'pathwatch trace: --port 70000: expected 0 to 65535');
  const odd = await runCli(['trace', 'not a run']);
  assert.equal(odd.code, 2);
  assert.equal(odd.stderr.trim(), 'pathwatch trace: "not a run" is neither a trace.zip file nor a run id');
});
