import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunCancelledError } from '../../src/checks/run-cancelled-error.ts';
import { runCheck } from '../../src/checks/run-check.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { startHttpServer } from '../helpers/test-servers.ts';

async function httpCheck(url: string) {
  const config = await parseConfig(
    { locations: { local: {} }, checks: [{ id: 'cancel-me', kind: 'http', timeout: '30s', http: { url } }] },
    '/tmp/run-check-cancellation.yaml',
  );
  return {
    check: config.checks[0],
    options: { location: 'local', secrets: config.secrets, configDir: config.dir },
  };
}

test("a run whose caller's signal is already aborted sends nothing and is stored as cancelled", async (t) => {
  let requests = 0;
  const server = await startHttpServer((_request, response) => {
    requests++;
    response.end('ok');
  });
  t.after(() => server.close());
  const { check, options } = await httpCheck(`${server.url}/`);
  const controller = new AbortController();
  controller.abort(new RunCancelledError('shutdown'));
  const started = Date.now();
  const result = await runCheck(check, { ...options, signal: controller.signal });
  assert.equal(result.status, 'error');
  assert.equal(result.error?.class, 'internal');
  assert.equal(result.error?.message, 'cancelled by shutdown');
  assert.ok(Date.now() - started < 1500, 'at once, not at the 30 s deadline');
  assert.equal(requests, 0, 'no request was sent');
});

test("the caller's signal cuts a run mid-flight and keeps the phase it was in; any other reason is named", async (t) => {
  const server = await startHttpServer(() => {}); // answers never
  t.after(() => server.close());
  const { check, options } = await httpCheck(`${server.url}/`);
  const controller = new AbortController();
  setTimeout(() => controller.abort('operator request'), 300);
  const started = Date.now();
  const result = await runCheck(check, { ...options, signal: controller.signal });
  assert.ok(Date.now() - started < 1500, `ended ${Date.now() - started} ms in, not at the 30 s deadline`);
  assert.equal(result.status, 'error');
  assert.equal(result.error?.message, 'cancelled: operator request');
  assert.equal(result.error?.phase, 'firstByte', 'it was waiting for the answer');
});

test('a run that passes is a pass, whatever the signal does afterwards', async (t) => {
  const server = await startHttpServer((_request, response) => response.end('ok'));
  t.after(() => server.close());
  const { check, options } = await httpCheck(`${server.url}/`);
  const controller = new AbortController();
  const result = await runCheck(check, { ...options, signal: controller.signal });
  controller.abort(new RunCancelledError('shutdown'));
  assert.equal(result.status, 'pass', result.error?.message);
});
