import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { TokenTable } from '../../src/auth/token-table.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { runCli } from '../helpers/run-cli.ts';

test('token create prints a token once and the config entry that holds only its hash; the API knows the token by it', async () => {
  const result = await runCli(['token', 'create', '--name', 'on-call', '--role', 'operator']);
  assert.equal(result.code, 0, result.stderr);
  const [token, ...rest] = result.stdout.split('\n');
  assert.match(token, /^pwt_[A-Za-z0-9_-]{43}$/);
  const entryYaml = rest.filter((line) => !line.startsWith('#')).join('\n');
  assert.equal(entryYaml.includes(token), false, 'the entry does not hold the token');
  const config = await parseConfig({ locations: { inside: {} }, ...parse(entryYaml) }, '/tmp/token.yaml');
  const table = new TokenTable(config.settings.api.tokens);
  assert.deepEqual(
    { name: table.identify(token)?.name, role: table.identify(token)?.role },
    { name: 'on-call', role: 'operator' },
  );
  const second = await runCli(['token', 'create', '--name', 'on-call', '--role', 'operator']);
  assert.notEqual(second.stdout.split('\n')[0], token, 'every token is new');
});

test('token create with a role that does not exist, or no name, is one clear line and exit 2', async () => {
  const badRole = await runCli(['token', 'create', '--name', 'x', '--role', 'root']);
  assert.equal(badRole.code, 2);
  assert.match(
    badRole.stderr,
    /^error: option '--role <role>' argument 'root' is invalid\. expected one of viewer, operator, admin, worker$/m,
  );
  assert.equal(badRole.stdout, '');
  const noName = await runCli(['token', 'create', '--role', 'viewer']);
  assert.equal(noName.code, 2);
  assert.match(noName.stderr, /required option '--name <who>' not specified/);
});

test('token create --role worker prints an upload token, its entry for the API and the line for the worker', async () => {
  const result = await runCli(['token', 'create', '--name', 'worker-outside', '--role', 'worker']);
  assert.equal(result.code, 0, result.stderr);
  const [token, ...rest] = result.stdout.split('\n');
  assert.match(token, /^pwt_[A-Za-z0-9_-]{43}$/);
  const config = await parseConfig(
    { locations: { inside: {} }, ...parse(rest.filter((line) => !line.startsWith('#')).join('\n')) },
    '/tmp/token.yaml',
  );
  assert.equal(new TokenTable(config.settings.api.tokens).identify(token)?.role, 'worker');
  assert.match(result.stdout, /deliverTo: \{ url: .*token: "\$\{env:PATHWATCH_UPLOAD_TOKEN\}" \}/);
});
