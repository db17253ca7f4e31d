import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signWebhook, verifyWebhook, WEBHOOK_TOLERANCE_SECONDS } from '../../src/alerts/webhook-signature.ts';

/** Issue 14, webhook channel: the signature a receiver checks, and what verify refuses. */
const secret = 'whsec-test-key';
const body = '{"a":"é"}';
const timestamp = 1_700_000_000;
// Computed apart from pathwatch: printf '1700000000.{"a":"é"}' | openssl dgst -sha256 -hmac 'whsec-test-key'
const KNOWN = 'sha256=c2065a1d2124ca5428d4511f629b8491d12c4e27969d4c577dc27741f73bcd46';

test('the signature is HMAC-SHA256 of "<timestamp>.<body>" with the secret, hex, as openssl computes it', () => {
  assert.equal(signWebhook(secret, timestamp, body), KNOWN);
  assert.equal(signWebhook(secret, String(timestamp), Buffer.from(body, 'utf8')), KNOWN);
});

test('verify accepts the right secret, body and a fresh timestamp, and refuses each one changed', () => {
  const received = {
    signature: KNOWN,
    timestamp: String(timestamp),
    body,
    secret,
    nowSeconds: timestamp + 10,
  };
  assert.deepEqual(verifyWebhook(received), { ok: true });
  assert.deepEqual(verifyWebhook({ ...received, body: Buffer.from(body, 'utf8') }), { ok: true });
  const refusals = {
    'another secret': verifyWebhook({ ...received, secret: 'whsec-other-key' }),
    'a changed body': verifyWebhook({ ...received, body: '{"a":"e"}' }),
    're-serialised JSON': verifyWebhook({ ...received, body: JSON.stringify(JSON.parse(body), null, 1) }),
    'a moved timestamp': verifyWebhook({ ...received, timestamp: String(timestamp + 1) }),
    'no signature': verifyWebhook({ ...received, signature: undefined }),
    'a bare hex signature': verifyWebhook({ ...received, signature: KNOWN.slice('sha256='.length) }),
    'no timestamp': verifyWebhook({ ...received, timestamp: undefined }),
    'a timestamp in ms': verifyWebhook({ ...received, timestamp: `${timestamp}000` }),
  };
  for (const [what, verdict] of Object.entries(refusals)) assert.equal(verdict.ok, false, what);
  assert.match((refusals['another secret'] as { reason: string }).reason, /does not match/);
  assert.match((refusals['no signature'] as { reason: string }).reason, /X-Pathwatch-Signature/);
});

test('a replay older or newer than 5 minutes is refused; inside the tolerance it passes', () => {
  assert.equal(WEBHOOK_TOLERANCE_SECONDS, 300);
  const at = (offset: number, toleranceSeconds?: number) =>
    verifyWebhook({
      signature: KNOWN,
      timestamp: String(timestamp),
      body,
      secret,
      nowSeconds: timestamp + offset,
      toleranceSeconds,
    });
  assert.deepEqual(at(300), { ok: true });
  assert.deepEqual(at(-300), { ok: true });
  const stale = at(301);
  assert.equal(stale.ok, false);
  assert.match((stale as { reason: string }).reason, /stale or replayed/);
  assert.equal(at(-301).ok, false);
  assert.equal(at(60, 30).ok, false);
});

test('during a secret change the receiver can accept either of two signatures in the header', () => {
  const other = signWebhook('whsec-old-key', timestamp, body);
  const header = `${other}, ${KNOWN}`;
  assert.deepEqual(
    verifyWebhook({ signature: header, timestamp: String(timestamp), body, secret, nowSeconds: timestamp }),
    { ok: true },
  );
  assert.equal(
    verifyWebhook({ signature: other, timestamp: String(timestamp), body, secret, nowSeconds: timestamp }).ok,
    false,
  );
});
