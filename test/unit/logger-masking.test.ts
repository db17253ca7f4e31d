import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const LOGGER = new URL('../../src/util/logger.ts', import.meta.url).pathname;
const MASKER = new URL('../../src/config/secret-masker.ts', import.meta.url).pathname;

test('log lines mask secrets in every field and stay valid JSON when a secret is made of digits', () => {
  const script = `
    import { processSecretMasker } from ${JSON.stringify(MASKER)};
    import { createLogger } from ${JSON.stringify(LOGGER)};
    processSecretMasker.add('123');
    processSecretMasker.add('Qx"se cret');
    createLogger('test', 'info').info({ durationMs: 1234, note: 'pw 123, Qx"se cret' }, 'run 123 done');
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(child.status, 0, child.stderr);
  const line = JSON.parse(child.stdout.trim()); // still JSON: the number was not cut into
  assert.equal(line.durationMs, 1234);
  assert.equal(line.note, 'pw ***, ***');
  assert.equal(line.msg, 'run *** done');
});
