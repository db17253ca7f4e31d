import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * One part of a write to Redis: a Lua body that reads its own KEYS and ARGV and returns
 * one value, with the keys and arguments of one call. A store builds its steps; whoever
 * writes runs them alone or several as one script (see runSteps).
 */
export interface RedisStep {
  /** Names the body: steps with one name have the same Lua text. */
  name: string;
  lua: string;
  keys: string[];
  args: Array<string | number>;
}

const scripts = new Map<string, { lua: string; sha: string }>();
/** Per connection, the scripts it has sent as text: Redis knows them until it restarts. */
const sent = new WeakMap<Redis, Set<string>>();

/**
 * Runs `steps` in order in one script: one command, one round trip, and no other client
 * sees the state between two steps, whatever their number. The worker pays for one command
 * instead of one per step (each costs it more CPU than Redis spends running it). A Redis
 * error in a step ends the script there, with the steps before it applied, as in MULTI: put
 * the step the others depend on first. Returns each step's reply (nil as null).
 *
 * Each combination of step names is its own script, sent as text (EVAL) the first time on
 * a connection and by SHA (EVALSHA) after, again as text if Redis lost it (a restart). Not through ioredis's defineCommand: a command
 * defined after an auto-pipeline was opened is missing from that pipeline, which then
 * answers its other commands with a TypeError ("results[i] is not iterable", seen in
 * clean-clone CI on the results connection). ARGV starts with each step's key and argument counts.
 */
export async function runSteps(redis: Redis, steps: RedisStep[]): Promise<unknown[]> {
  const name = steps.map((step) => step.name).join('\n');
  let script = scripts.get(name);
  if (!script) {
    const lua = composeSteps(steps);
    script = { lua, sha: createHash('sha1').update(lua).digest('hex') };
    scripts.set(name, script);
  }
  const keys = steps.flatMap((step) => step.keys);
  const args = [
    ...keys,
    ...steps.flatMap((step) => [step.keys.length, step.args.length]),
    ...steps.flatMap((step) => step.args),
  ];
  let known = sent.get(redis);
  if (!known) {
    known = new Set();
    sent.set(redis, known);
  }
  if (known.has(script.sha)) {
    try {
      return (await redis.evalsha(script.sha, keys.length, ...args)) as unknown[];
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    }
  }
  known.add(script.sha);
  return (await redis.eval(script.lua, keys.length, ...args)) as unknown[];
}

/** The Lua of one script running `steps` in order, each body a function of its own KEYS and ARGV. */
export function composeSteps(steps: RedisStep[]): string {
  const bodies = steps.map((step, index) => `local function step${index + 1}(KEYS, ARGV)\n${step.lua}\nend`);
  return `${bodies.join('\n')}
local steps = { ${steps.map((_, index) => `step${index + 1}`).join(', ')} }
local replies = {}
local nextKey, nextArg = 1, ${2 * steps.length} + 1
for i = 1, ${steps.length} do
  local keyCount, argCount = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local keys, args = {}, {}
  for j = 1, keyCount do keys[j] = KEYS[nextKey + j - 1] end
  for j = 1, argCount do args[j] = ARGV[nextArg + j - 1] end
  nextKey, nextArg = nextKey + keyCount, nextArg + argCount
  -- false, not nil: a nil would end the reply array early.
  local reply = steps[i](keys, args)
  if reply == nil then reply = false end
  replies[i] = reply
end
return replies
`;
}
