import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { API_ROLES, roleAllows } from '../../src/auth/api-role.ts';
import { createApiToken, hashApiToken, isApiTokenHash, TOKEN_PREFIX } from '../../src/auth/api-token.ts';
import { bearerTokenOf } from '../../src/auth/bearer-token.ts';
import { signLink, verifyLink } from '../../src/auth/signed-link.ts';
import { TokenTable } from '../../src/auth/token-table.ts';

test('a created token is random, prefixed, and only its hash identifies it', () => {
  const first = createApiToken();
  const second = createApiToken();
  assert.notEqual(first.token, second.token);
  assert.ok(first.token.startsWith(TOKEN_PREFIX));
  assert.ok(first.token.length >= TOKEN_PREFIX.length + 43);
  assert.ok(isApiTokenHash(first.hash));
  assert.equal(first.hash, hashApiToken(first.token));
  assert.equal(first.hash.includes(first.token.slice(TOKEN_PREFIX.length)), false);
  assert.equal(isApiTokenHash('sha256:abc'), false);
  assert.equal(isApiTokenHash(first.token), false);
});

test('the token table finds the entry of a token, and nothing for a wrong, partial or hash-as-token one', () => {
  const viewer = createApiToken();
  const operator = createApiToken();
  const table = new TokenTable([
    { name: 'wall screen', hash: viewer.hash, role: 'viewer' },
    { name: 'on call', hash: operator.hash, role: 'operator' },
  ]);
  assert.deepEqual(table.identify(viewer.token), { name: 'wall screen', hash: viewer.hash, role: 'viewer' });
  assert.equal(table.identify(operator.token)?.role, 'operator');
  assert.equal(table.identify(`${operator.token}x`), undefined);
  assert.equal(table.identify(operator.token.slice(0, -1)), undefined);
  assert.equal(table.identify(operator.hash), undefined, 'the hash from the config is not a token');
  assert.equal(table.identify(''), undefined);
});

test('the Bearer scheme is case-insensitive; other schemes and malformed headers give no token', () => {
  for (const header of ['Bearer abc', 'bearer abc', 'BEARER abc', '  Bearer   abc  ', 'bEaReR\tabc'])
    assert.equal(bearerTokenOf(header), 'abc', header);
  for (const header of [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    'Basic abc',
    'Bearer a b',
    'Bearerabc',
    ['Bearer abc'],
  ])
    assert.equal(bearerTokenOf(header as string | undefined), undefined, JSON.stringify(header));
});

test('roles include the ones before them', () => {
  const table = API_ROLES.map((have) =>
    API_ROLES.map((need) => (roleAllows(have, need) ? 'y' : 'n')).join(''),
  );
  // The read roles in order; the worker only uploads: no read role has it, it has none of them.
  assert.deepEqual(API_ROLES, ['viewer', 'operator', 'admin', 'worker']);
  assert.deepEqual(table, ['ynnn', 'yynn', 'yyyn', 'nnny']);
});

test('a signed link opens its run until it expires; any change to it is refused as invalid', () => {
  const key = randomBytes(32);
  const now = Date.UTC(2026, 11, 7, 12, 0, 0);
  const grant = { runId: 'r1abc', expiresAt: now + 3_600_000 };
  const { exp, sig } = signLink(key, grant);
  assert.deepEqual(verifyLink(key, 'r1abc', exp, sig, now), {
    ok: true,
    grant: { runId: 'r1abc', expiresAt: grant.expiresAt },
  });
  assert.deepEqual(verifyLink(key, 'r1abc', exp, sig, grant.expiresAt + 1000), {
    ok: false,
    reason: 'expired',
  });
  const invalid = { ok: false, reason: 'invalid' };
  assert.deepEqual(verifyLink(key, 'r1abd', exp, sig, now), invalid, 'another run');
  assert.deepEqual(verifyLink(key, 'r1abc', String(Number(exp) + 3600), sig, now), invalid, 'a later expiry');
  const flipped = `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`;
  assert.deepEqual(verifyLink(key, 'r1abc', exp, flipped, now), invalid, 'a changed signature');
  assert.deepEqual(verifyLink(randomBytes(32), 'r1abc', exp, sig, now), invalid, 'another key');
  for (const [badExp, badSig] of [
    [undefined, sig],
    [exp, undefined],
    ['12e3', sig],
    ['-1', sig],
    [exp, `${sig}=`],
    [exp, 'x'.repeat(4000)],
  ])
    assert.deepEqual(
      verifyLink(key, 'r1abc', badExp, badSig, now),
      invalid,
      `${badExp} ${badSig?.slice(0, 10)}`,
    );
});
