import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfig } from '../../src/config/load-config.ts';

/** `artifacts.deliverTo` and `maxUploadSize`: each mistake one line with its path and what was expected. */
async function problems(artifacts: object): Promise<string[]> {
  try {
    await parseConfig({ locations: { inside: {} }, artifacts }, '/tmp/pathwatch.config.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  return [];
}

test('a worker delivering to the API: a bad URL, a token written in clear and a bad size are named, all at once', async () => {
  const found = await problems({
    deliverTo: { url: 'ftp://pathwatch.example', token: 'pwt_written_in_clear' },
    maxUploadSize: 'a lot',
  });
  assert.equal(found.length, 3, found.join('\n'));
  const at = (path: string) => found.find((line) => line.startsWith(`${path}: `)) ?? `(nothing at ${path})`;
  assert.match(
    at('artifacts.deliverTo.url'),
    /expected the API's base URL, such as "https:\/\/pathwatch\.example\.com", got "ftp:\/\/pathwatch\.example"$/,
  );
  assert.match(at('artifacts.deliverTo.token'), /must be a secret reference/);
  assert.ok(
    !found.join('\n').includes('pwt_written_in_clear'),
    `the clear token is not echoed:\n${found.join('\n')}`,
  );
  assert.match(at('artifacts.maxUploadSize'), /./);
});

test('deliverTo without its token says the token is required', async () => {
  const found = await problems({ deliverTo: { url: 'https://pathwatch.example' } });
  assert.deepEqual(found.length, 1, found.join('\n'));
  assert.match(found[0], /^artifacts\.deliverTo\.token: /);
});
