import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadLinkKey } from '../../src/api/link-key.ts';
import { parseConfig } from '../../src/config/load-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'pw-link-key-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('without api.linkKey a key is made once, owner-only, and the same key is read back after a restart', async () => {
  const config = await parseConfig(
    { locations: { inside: {} }, dataDir: 'data' },
    join(dir, 'pathwatch.yaml'),
  );
  const [first, second] = await Promise.all([loadLinkKey(config), loadLinkKey(config)]);
  assert.equal(first.length, 32);
  assert.deepEqual(first, second, 'two processes starting at once end with one key');
  const file = join(dir, 'data', 'link-key');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(await loadLinkKey(config), first);
  assert.equal(readFileSync(file, 'utf8').trim(), first.toString('hex'));
});

test('a configured key is used as given; a short one, or a damaged key file, is one clear error', async () => {
  const strong = 'k'.repeat(40);
  const configured = await parseConfig(
    { locations: { inside: {} }, api: { linkKey: '${env:LINK_KEY}' } },
    join(dir, 'other.yaml'),
    { LINK_KEY: strong },
  );
  assert.deepEqual(await loadLinkKey(configured), Buffer.from(strong));
  const weak = await parseConfig(
    { locations: { inside: {} }, api: { linkKey: '${env:LINK_KEY}' } },
    join(dir, 'other.yaml'),
    { LINK_KEY: 'short' },
  );
  await assert.rejects(loadLinkKey(weak), /api\.linkKey: the key is 5 characters; use at least 32/);
  const damagedDir = join(dir, 'damaged');
  const damaged = await parseConfig({ locations: { inside: {} }, dataDir: damagedDir }, join(dir, 'd.yaml'));
  const { mkdirSync } = await import('node:fs');
  mkdirSync(damagedDir, { recursive: true });
  writeFileSync(join(damagedDir, 'link-key'), 'not a key');
  await assert.rejects(
    loadLinkKey(damaged),
    /link-key does not hold a link key \(64 hex digits\); delete it/,
  );
});
