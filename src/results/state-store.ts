import { RedisKeyspace } from '../redis/redis-keyspace.ts';
import { type RedisStep, runSteps } from './redis-step.ts';
import type { RunResult } from './run-result.ts';
import { slotIndex } from './slot-outcome-elsewhere.ts';

/** A check's state at one location. UNKNOWN until the first counted run. */
export type CheckStateName = 'UNKNOWN' | 'UP' | 'DEGRADED' | 'DOWN';

export interface CheckState {
  state: CheckStateName;
  /** When it entered this state (epoch ms). */
  since: number;
  consecutiveFailures: number;
  consecutivePasses: number;
  lastRunId?: string;
  lastRunAt?: number;
  lastError?: string;
  /** Changed state at least `flapThreshold` times within the flap window. */
  flapping: boolean;
  /** Schedule slot (⌊scheduledAt / interval⌋) of the last counted run, when known. */
  lastSlot?: number;
  /**
   * The interval (ms) that slot counts in, from the run itself: checks and journeys alike
   * are judged by slot without a config lookup, and in the unit their slots were counted in.
   */
  slotInterval?: number;
  /** The slot of the last state change and the state before it: a verdict waits for the other locations' runs of that slot. */
  changedSlot?: number;
  previousState?: CheckStateName;
}

export interface StatePolicy {
  /** Counted failures in a row that make it DOWN. */
  downAfter: number;
  /** Passes in a row that make a DOWN check UP. */
  upAfter: number;
  /** Window and count of state changes that mean flapping (default 1 h, 4). */
  flapWindowMs?: number;
  flapThreshold?: number;
}

export interface StateChange {
  checkId: string;
  location: string;
  from: CheckStateName;
  to: CheckStateName;
  at: number;
  runId: string;
  error?: string;
  flapping: boolean;
}

/**
 * Applies one counted run to the state of its check × location, atomically and at most
 * once per run id: a job redone after its worker died, or two workers finishing runs of
 * the same check together, cannot double-count. Runs with status "error" (pathwatch could
 * not run the check) say nothing about the target and leave the counters alone.
 */
const APPLY_RUN = `
local stateKey, appliedKey = KEYS[1], KEYS[2]
local runId, status, at = ARGV[1], ARGV[2], tonumber(ARGV[3])
local downAfter, upAfter = tonumber(ARGV[4]), tonumber(ARGV[5])
local flapWindow, flapThreshold, errorText = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
local slot, slotInterval = tonumber(ARGV[9]), tonumber(ARGV[10])
if redis.call('ZSCORE', appliedKey, runId) then return {'duplicate'} end
redis.call('ZADD', appliedKey, at, runId)
redis.call('ZREMRANGEBYRANK', appliedKey, 0, -501)
local old = redis.call('HGET', stateKey, 'state') or 'UNKNOWN'
local failures = tonumber(redis.call('HGET', stateKey, 'consecutiveFailures') or '0')
local passes = tonumber(redis.call('HGET', stateKey, 'consecutivePasses') or '0')
local new = old
if status == 'fail' then
  failures = failures + 1
  passes = 0
  if failures >= downAfter then new = 'DOWN' end
  redis.call('HSET', stateKey, 'lastError', errorText)
elseif status == 'pass' or status == 'degraded' then
  passes = passes + 1
  failures = 0
  if old ~= 'DOWN' or passes >= upAfter then
    if status == 'pass' then new = 'UP' else new = 'DEGRADED' end
  end
end
redis.call('HSET', stateKey, 'consecutiveFailures', failures, 'consecutivePasses', passes, 'lastRunId', runId, 'lastRunAt', at)
if slot >= 0 then
  -- A changed interval renumbers the slots: the new numbering replaces the old one.
  local lastSlot = tonumber(redis.call('HGET', stateKey, 'lastSlot') or '-1')
  local lastInterval = tonumber(redis.call('HGET', stateKey, 'slotInterval') or '0')
  if slot > lastSlot or slotInterval ~= lastInterval then
    redis.call('HSET', stateKey, 'lastSlot', slot, 'slotInterval', slotInterval)
  end
end
local transitionsKey = stateKey .. ':transitions'
if new ~= old then
  redis.call('HSET', stateKey, 'state', new, 'since', at, 'previousState', old, 'changedSlot', slot)
  redis.call('LPUSH', transitionsKey, at)
  redis.call('LTRIM', transitionsKey, 0, 49)
end
local recent = 0
for _, stamp in ipairs(redis.call('LRANGE', transitionsKey, 0, flapThreshold)) do
  if tonumber(stamp) >= at - flapWindow then recent = recent + 1 end
end
local flapping = '0'
if recent >= flapThreshold then flapping = '1' end
redis.call('HSET', stateKey, 'flapping', flapping)
return {old, new, flapping}
`;

export class StateStore extends RedisKeyspace {
  private key(checkId: string, location: string): string {
    return this.keyOf('state', checkId, location);
  }

  /** Counts a run; returns the state change it caused, if any. */
  async apply(result: RunResult, policy: StatePolicy): Promise<StateChange | undefined> {
    const [reply] = await runSteps(this.redis, [this.applyStep(result, policy)]);
    return changeOf(result, reply);
  }

  /** The step that counts `result` in its state (see APPLY_RUN); its reply goes to changeOf. */
  applyStep(result: RunResult, policy: StatePolicy): RedisStep {
    const key = this.key(result.checkId, result.location);
    return {
      name: 'apply-run',
      lua: APPLY_RUN,
      keys: [key, `${key}:applied`],
      args: [
        result.runId,
        result.status,
        result.startedAt,
        policy.downAfter,
        policy.upAfter,
        policy.flapWindowMs ?? 3_600_000,
        policy.flapThreshold ?? 4,
        result.error?.message ?? '',
        slotIndex(result) ?? -1,
        result.intervalMs ?? 0,
      ],
    };
  }

  async get(checkId: string, location: string): Promise<CheckState> {
    const fields = await this.redis.hgetall(this.key(checkId, location));
    return {
      state: (fields.state as CheckStateName) ?? 'UNKNOWN',
      since: Number(fields.since ?? 0),
      consecutiveFailures: Number(fields.consecutiveFailures ?? 0),
      consecutivePasses: Number(fields.consecutivePasses ?? 0),
      lastRunId: fields.lastRunId,
      lastRunAt: fields.lastRunAt ? Number(fields.lastRunAt) : undefined,
      lastError: fields.lastError || undefined,
      flapping: fields.flapping === '1',
      lastSlot: optionalSlot(fields.lastSlot),
      slotInterval: fields.slotInterval ? Number(fields.slotInterval) || undefined : undefined,
      changedSlot: optionalSlot(fields.changedSlot),
      previousState: (fields.previousState as CheckStateName | undefined) || undefined,
    };
  }

  async forCheck(checkId: string, locations: string[]): Promise<Record<string, CheckState>> {
    const states = await Promise.all(locations.map((location) => this.get(checkId, location)));
    return Object.fromEntries(locations.map((location, index) => [location, states[index]]));
  }
}

function optionalSlot(text: string | undefined): number | undefined {
  const value = Number(text ?? -1);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The state change an apply step's reply reports, if any (a duplicate run changes nothing). */
export function changeOf(result: RunResult, reply: unknown): StateChange | undefined {
  const [from, to, flapping] = reply as string[];
  if (from === 'duplicate' || from === to) return undefined;
  return {
    checkId: result.checkId,
    location: result.location,
    from: from as CheckStateName,
    to: to as CheckStateName,
    at: result.startedAt,
    runId: result.runId,
    error: result.error?.message,
    flapping: flapping === '1',
  };
}
