import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfig } from '../../src/config/load-config.ts';

// dns and ping neither speak TLS nor log in: a `tls` or `auth` block on them is a mistake
// the config load reports, naming the block, rather than settings silently ignored.

async function issuesOf(check: Record<string, unknown>): Promise<string[]> {
  const error = await parseConfig(
    { locations: { local: {} }, checks: [{ id: 'refuses-blocks', ...check }] },
    '/tmp/test.yaml',
    {},
  ).then(
    () => assert.fail('expected a ConfigError'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof ConfigError, String(error));
  return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
}

test('a dns check refuses tls and auth blocks', async () => {
  const lines = await issuesOf({
    kind: 'dns',
    dns: { server: '127.0.0.1', query: 'shop.example' },
    tls: { verify: false },
    auth: { username: 'someone', password: 'x' },
  });
  assert.deepEqual(lines, [
    'checks[0].auth: a dns check does not log in: remove this block',
    'checks[0].tls: a dns check never speaks TLS: remove this block',
  ]);
});

test('a ping check refuses tls and auth blocks', async () => {
  const lines = await issuesOf({
    kind: 'ping',
    ping: { host: '127.0.0.1' },
    tls: {},
    auth: {},
  });
  assert.deepEqual(lines, [
    'checks[0].auth: a ping check does not log in: remove this block',
    'checks[0].tls: a ping check never speaks TLS: remove this block',
  ]);
});
