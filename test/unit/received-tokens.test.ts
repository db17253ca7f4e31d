import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokensInBody, tokensInHeader, tokensInUrl } from '../../src/checks/received-tokens.ts';

test('credentials are found in headers, URLs and bodies; ordinary values are not', () => {
  assert.deepEqual(
    [...tokensInHeader('Set-Cookie', 'sid=8c1d0e6f2a4b9c7d; Path=/; HttpOnly')],
    ['8c1d0e6f2a4b9c7d'],
  );
  assert.deepEqual([...tokensInHeader('cookie', 'lang=en; sid=8c1d0e6f2a4b9c7d')], ['8c1d0e6f2a4b9c7d']);
  const basic = tokensInHeader('Authorization', `Basic ${Buffer.from('bob:pa ss-w0rd!').toString('base64')}`);
  assert.ok(basic.has('bob:pa ss-w0rd!') && basic.has('pa ss-w0rd!'), [...basic].join(' | '));
  assert.ok(tokensInHeader('x-api-key', 'k-19a7f3e2c').has('k-19a7f3e2c'));
  assert.equal(tokensInHeader('content-type', 'application/json; charset=utf-8').size, 0);

  assert.deepEqual(
    [...tokensInUrl('https://app.example/cb#access_token=at-5f1e9a2b7c&state=home')],
    ['at-5f1e9a2b7c'],
  );
  assert.deepEqual([...tokensInUrl('https://app.example/search?q=mugs-and-cups&page=2')], []);

  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl';
  assert.deepEqual(
    [
      ...tokensInBody(
        JSON.stringify({ data: { refresh_token: 'rt-0b9c8d7e6f', expires_in: 3600, user: 'alice-liddell' } }),
      ),
    ],
    ['rt-0b9c8d7e6f'],
  );
  assert.deepEqual([...tokensInBody(`<script>var t = "${jwt}";</script>`)], [jwt]);
  assert.deepEqual([...tokensInBody('username=alice&password=Qx%227731+pa')], ['Qx"7731 pa']);
  // Numbers, dates and JSON words would break a trace's JSON if masked.
  assert.deepEqual(
    [...tokensInBody(JSON.stringify({ session: 1732781234567, token: 'true', sessionStart: '2026-11-28' }))],
    [],
  );
});
