import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskRunResult } from '../../src/checks/mask-run-result.ts';
import { SecretMasker } from '../../src/config/secret-masker.ts';
import { SecretResolver } from '../../src/config/secret-resolver.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { maskDeep } from '../../src/util/mask-deep.ts';
import { encodingsOf, findLeaks } from '../helpers/secret-encodings.ts';

const SECRET = 'Qx"se cret\\77+31%é€🔑';

test('a secret is masked raw, JSON-escaped, URL- and form-encoded and in base64, wherever it sits', () => {
  const masker = new SecretMasker();
  masker.add(SECRET);
  for (const form of encodingsOf(SECRET)) {
    const masked = masker.mask(`before ${form} after`);
    assert.equal(masked, 'before *** after', `form ${JSON.stringify(form)}`);
  }
  // Latin-1 percent-encoding (a form on a page without a charset) and HTML entities.
  assert.equal(masker.mask('p=Qx%22se+cret%5C77%2B31%25%E9%E2%82%AC%F0%9F%94%91&x=1'), 'p=***&x=1');
  assert.equal(masker.mask('<input value="Qx&quot;se cret\\77+31%é€🔑">'), '<input value="***">');
  // base64 of "user:secret" (a Basic header) at every offset the secret can start at.
  for (const user of ['a', 'ab', 'abc']) {
    const header = `Basic ${Buffer.from(`${user}:${SECRET}`).toString('base64')}`;
    assert.deepEqual(findLeaks(masker.mask(header), 'header', { SECRET }), [], header);
  }
  assert.equal(
    masker.mask('nothing to see here, "quoted" 100% + more'),
    'nothing to see here, "quoted" 100% + more',
  );
});

test('masked JSON stays valid JSON', () => {
  const masker = new SecretMasker();
  masker.add('a"b\\c');
  masker.add('ends with backslash\\');
  const text = JSON.stringify({
    fill: 'a"b\\c',
    nested: JSON.stringify({ p: 'a"b\\c' }),
    tail: 'ends with backslash\\',
  });
  assert.deepEqual(JSON.parse(masker.mask(text)), { fill: '***', nested: '{"p":"***"}', tail: '***' });
});

test("a run's received tokens are masked in that run only; resolved secrets everywhere", () => {
  const resolver = new SecretResolver({ TOKEN: 'resolved-secret-value' }, {}, undefined, new SecretMasker());
  const run = resolver.forRun();
  assert.equal(run.interpolate('Bearer ${env:TOKEN}'), 'Bearer resolved-secret-value');
  run.maskAlso('session-token-of-this-run');
  assert.equal(run.mask('resolved-secret-value session-token-of-this-run'), '*** ***');
  assert.equal(
    resolver.mask('resolved-secret-value session-token-of-this-run'),
    '*** session-token-of-this-run',
  );
  assert.equal(resolver.forRun().mask('session-token-of-this-run'), 'session-token-of-this-run');
});

test('maskDeep masks every string of a result, however deep, and leaves the rest as it is', () => {
  const masker = new SecretMasker();
  masker.add('s3cr3t-token');
  const result = {
    status: 'fail',
    phases: { total: 12 },
    assertions: [{ name: 'header authorization', ok: false, expected: 'x', actual: 'Bearer s3cr3t-token' }],
    details: { url: 'http://h/?t=s3cr3t-token', list: [['s3cr3t-token']], when: new Date(0), n: 3 },
  };
  const masked = maskDeep(result, (text) => masker.mask(text));
  assert.equal(masked.assertions[0].actual, 'Bearer ***');
  assert.equal(masked.details.url, 'http://h/?t=***');
  assert.deepEqual(masked.details.list, [['***']]);
  assert.equal(masked.details.when, result.details.when);
  assert.equal(masked.phases.total, 12);
  assert.equal(result.assertions[0].actual, 'Bearer s3cr3t-token', 'the original is left alone');
});

test('maskDeep copies only what it changes: a result with nothing to mask is returned as it is, a masked one shares its untouched parts', () => {
  const masker = new SecretMasker();
  masker.add('s3cr3t-token');
  const clean = {
    status: 'pass',
    phases: { total: 3 },
    peers: [{ ip: '127.0.0.1', port: 80 }],
    details: { a: ['x'] },
  };
  assert.equal(
    maskDeep(clean, (text) => masker.mask(text)),
    clean,
  );
  const dirty = {
    phases: { total: 3 },
    details: { url: 'http://h/?t=s3cr3t-token', other: { n: 1 } },
    peers: [{ ip: 'h' }],
  };
  const masked = maskDeep(dirty, (text) => masker.mask(text));
  assert.notEqual(masked, dirty);
  assert.notEqual(masked.details, dirty.details);
  assert.equal(masked.details.url, 'http://h/?t=***');
  assert.equal(masked.details.other, dirty.details.other, 'an untouched branch is shared, not copied');
  assert.equal(masked.phases, dirty.phases);
  assert.equal(dirty.details.url, 'http://h/?t=s3cr3t-token', 'the original is left alone');
  // A secret in a key, and a cycle, still make a copy: the key masked, the cycle cut.
  const keyed: Record<string, unknown> = { 's3cr3t-token': 1, keep: 2 };
  keyed.self = keyed;
  const maskedKeyed = maskDeep(keyed, (text) => masker.mask(text));
  assert.deepEqual(Object.keys(maskedKeyed), ['***', 'keep', 'self']);
  assert.equal(maskedKeyed.self, undefined);
});

test("a result's own ids are never masked, even when a secret's text turns up in them", () => {
  const masker = new SecretMasker();
  masker.add('Ab3xYz');
  const result: RunResult = {
    runId: 'q7Ab3xYz9k',
    checkId: 'Ab3xYz-health',
    kind: 'http',
    location: 'inside',
    startedAt: 0,
    finishedAt: 1,
    attempt: 1,
    status: 'fail',
    phases: { total: 1 },
    peers: [],
    error: { class: 'assertion', message: 'got Ab3xYz' },
    artifacts: [{ kind: 'har', key: 'runs/q7Ab3xYz9k/network.har' }],
  };
  const masked = maskRunResult(result, (text) => masker.mask(text));
  assert.equal(masked.runId, 'q7Ab3xYz9k');
  assert.equal(masked.checkId, 'Ab3xYz-health');
  assert.equal(masked.artifacts?.[0].key, 'runs/q7Ab3xYz9k/network.har');
  assert.equal(masked.error?.message, 'got ***');
});
