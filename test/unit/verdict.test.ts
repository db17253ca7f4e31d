import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckState, CheckStateName } from '../../src/results/state-store.ts';
import { computeVerdict, sideOf, type VerdictLocation } from '../../src/results/verdict.ts';

function state(name: CheckStateName): CheckState {
  return { state: name, since: 0, consecutiveFailures: 0, consecutivePasses: 0, flapping: false };
}

const inside: VerdictLocation = { id: 'inside', side: 'inside', live: true, controlDown: false };
const outside: VerdictLocation = { id: 'outside', side: 'outside', live: true, controlDown: false };

test('failing everywhere is the service; only outside is the outside path; only inside the inside path', () => {
  assert.equal(
    computeVerdict([inside, outside], { inside: state('DOWN'), outside: state('DOWN') }).verdict,
    'service',
  );
  const outsidePath = computeVerdict([inside, outside], { inside: state('UP'), outside: state('DOWN') });
  assert.equal(outsidePath.verdict, 'outside-path');
  assert.deepEqual(outsidePath.down, ['outside']);
  assert.equal(
    computeVerdict([inside, outside], { inside: state('DOWN'), outside: state('UP') }).verdict,
    'inside-path',
  );
  assert.equal(
    computeVerdict([inside, outside], { inside: state('UP'), outside: state('DEGRADED') }).verdict,
    'ok',
  );
});

test("a location whose control check is down is the probe host's fault, not the target's", () => {
  const broken = { ...outside, controlDown: true };
  const verdict = computeVerdict([inside, broken], { inside: state('UP'), outside: state('DOWN') });
  assert.equal(verdict.verdict, 'probe-host', 'the README promises probe-host, not ok');
  assert.deepEqual(verdict.probeHostFaults, ['outside']);
  assert.match(verdict.summary, /outside is at fault .* while inside passes/);
  const onlyThere = computeVerdict([broken], { outside: state('DOWN') });
  assert.equal(onlyThere.verdict, 'probe-host');
});

test('a location with no live worker is shown as unavailable and never counted as failing', () => {
  const dead = { ...outside, live: false };
  const verdict = computeVerdict([inside, dead], { inside: state('UP'), outside: state('DOWN') });
  assert.equal(verdict.verdict, 'ok');
  assert.deepEqual(verdict.unavailable, ['outside']);
  assert.equal(computeVerdict([{ ...inside, live: false }], { inside: state('DOWN') }).verdict, 'no-data');
});

test('the side defaults from the location name', () => {
  assert.equal(sideOf('outside'), 'outside');
  assert.equal(sideOf('outside-eu'), 'outside');
  assert.equal(sideOf('dc-frankfurt'), 'inside');
  assert.equal(sideOf('cloud', 'outside'), 'outside');
});
