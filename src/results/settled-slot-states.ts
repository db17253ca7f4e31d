import type { CheckState } from './state-store.ts';

/**
 * The states to judge a check by, slot by slot. Locations fire at different offsets within
 * an interval, so when a fault starts one location's run of slot k is in while the others'
 * are still to come; judged at once, a service fault reads `inside-path`, then
 * `outside-path`, then `service`. So a location whose state changed in the newest slot is
 * taken as it was before that slot until every other location's run of the slot is in, or
 * one interval has passed since the first of them (a location that stays behind longer is
 * not waited for). `awaiting` names the locations whose run of that slot is still to come.
 *
 * The interval is the one each state's slot was counted in (`slotInterval`, carried by the
 * runs), so checks and journeys are judged alike; slots counted in different intervals (the
 * interval changed and not every location has run since) cannot be compared, and are not.
 */
export function settledSlotStates(
  states: Record<string, CheckState | undefined>,
  locations: string[],
  now: number,
): { states: Record<string, CheckState | undefined>; awaiting: string[] } {
  const reporting = locations.filter((id) => (states[id]?.state ?? 'UNKNOWN') !== 'UNKNOWN');
  const slots = reporting.map((id) => states[id]?.lastSlot).filter((slot) => slot !== undefined);
  const intervals = new Set(reporting.map((id) => states[id]?.slotInterval));
  const [intervalMs] = intervals;
  if (!intervalMs || intervals.size > 1 || slots.length < 2) return { states, awaiting: [] };
  const newest = Math.max(...slots);
  const ahead = reporting.filter((id) => states[id]?.lastSlot === newest);
  const changed = ahead.filter(
    (id) => states[id]?.changedSlot === newest && states[id]?.previousState !== undefined,
  );
  const behind = reporting.filter((id) => (states[id]?.lastSlot ?? -1) < newest);
  const firstReport = Math.min(...ahead.map((id) => states[id]?.lastRunAt ?? now));
  if (changed.length === 0 || behind.length === 0 || now - firstReport > intervalMs) {
    return { states, awaiting: [] };
  }
  const asBefore = { ...states };
  for (const id of changed) {
    const state = states[id]!;
    asBefore[id] = { ...state, state: state.previousState ?? state.state };
  }
  return { states: asBefore, awaiting: behind };
}
