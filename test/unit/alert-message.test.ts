import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlertEvent } from '../../src/alerts/alert-event.ts';
import { humanDuration, renderAlertMail, renderSubject } from '../../src/alerts/alert-message.ts';
import { alertRetryDelay, DEFAULT_ALERT_RETRY } from '../../src/alerts/alert-queue.ts';

const up: AlertEvent = {
  key: 'i1.up',
  kind: 'up',
  incidentId: 'i1',
  checkId: 'shop',
  checkName: 'Shop <main>',
  itemKind: 'http',
  locations: ['inside', 'outside'],
  firstError: 'connect to 10.0.0.5:443 timed out\nafter 5000 ms',
  at: 1_000_000 + 192_000,
  start: 1_000_000,
  downForMs: 192_000,
};

test('the subject fills every placeholder and stays one line', () => {
  assert.equal(
    renderSubject('{{check}}|{{checkId}}|{{state}}|{{location}}|{{verdict}}|{{error}}|{{kind}}', up),
    'Shop <main>|shop|UP|inside, outside||connect to 10.0.0.5:443 timed out after 5000 ms|http',
  );
});

test('the up mail says how long it was down; the HTML escapes what it shows', () => {
  const mail = renderAlertMail(up);
  assert.match(mail.text, /Down for: +3 min 12 s/);
  assert.match(mail.html, /Shop &lt;main&gt;/);
  assert.doesNotMatch(mail.html, /<main>/);
  assert.equal(humanDuration(3 * 3_600_000 + 5_000), '3 h 5 s');
});

test('retries wait 15 s doubling to 15 min, about 8 h 30 min over 40 attempts', () => {
  const waits = Array.from({ length: DEFAULT_ALERT_RETRY.attempts - 1 }, (_, index) =>
    alertRetryDelay(index + 1, DEFAULT_ALERT_RETRY),
  );
  assert.deepEqual(waits.slice(0, 8), [15_000, 30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000]);
  const total = waits.reduce((sum, wait) => sum + wait, 0);
  assert.equal(humanDuration(total), '8 h 30 min 45 s');
});
