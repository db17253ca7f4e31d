import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { IncidentStore } from '../../src/results/incident-store.ts';
import type { StateChange } from '../../src/results/state-store.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

const down = (checkId: string, location: string, at: number): StateChange => ({
  checkId,
  location,
  from: 'UP',
  to: 'DOWN',
  at,
  runId: `${location}-${at}`,
  error: `refused at ${location}`,
  flapping: false,
});

test('two locations going DOWN at once, from two processes, are both in the one incident', async (t) => {
  const prefix = uniquePrefix('incident-race');
  // Two connections stand for two worker processes sharing one Redis.
  const first = new Redis(SHARED_REDIS_URL, { enableAutoPipelining: true });
  const second = new Redis(SHARED_REDIS_URL, { enableAutoPipelining: true });
  t.after(async () => {
    first.disconnect();
    second.disconnect();
    await deleteKeysWithPrefix(prefix);
  });
  const inside = new IncidentStore(first, prefix);
  const outside = new IncidentStore(second, prefix);
  for (let round = 0; round < 40; round++) {
    const checkId = `check-${round}`;
    const at = Date.now();
    await Promise.all([
      inside.onStateChange(down(checkId, 'inside', at), undefined, { pending: true }),
      outside.onStateChange(down(checkId, 'outside', at), undefined, { pending: true }),
    ]);
    const [incident, ...more] = await inside.list(checkId);
    assert.equal(more.length, 0, `round ${round}: one incident, not two`);
    assert.deepEqual([...incident.locations].sort(), ['inside', 'outside'], `round ${round}`);
    assert.deepEqual([...incident.downNow].sort(), ['inside', 'outside'], `round ${round}`);
    // A settle racing a later change keeps both: the verdict is set, the locations stay.
    await Promise.all([
      inside.settleVerdict(checkId, 'service'),
      outside.onStateChange({ ...down(checkId, 'outside', at + 1), from: 'DOWN', to: 'UP' }),
    ]);
    const settled = (await inside.get(incident.id))!;
    assert.equal(settled.verdict, 'service', `round ${round}`);
    assert.deepEqual(settled.downNow, ['inside'], `round ${round}`);
  }
});
