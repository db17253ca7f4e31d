import type { CheckState } from './state-store.ts';

export type LocationSide = 'inside' | 'outside';

/**
 * Where a failure is: `service` (failing from everywhere), `outside-path` (only from
 * outside: the line between the world and us), `inside-path` (only from inside),
 * `partial` (some of each side), `probe-host` (the failing location's own control check
 * is down: that host is at fault, not the target), `ok`, or `no-data` (no location with a
 * live worker has counted a run).
 */
export type VerdictName =
  | 'ok'
  | 'service'
  | 'outside-path'
  | 'inside-path'
  | 'partial'
  | 'probe-host'
  | 'no-data';

export interface Verdict {
  verdict: VerdictName;
  summary: string;
  /** Locations where the check is DOWN and whose results count. */
  down: string[];
  /** Locations with no live worker: not counted, shown as such. */
  unavailable: string[];
  /** Locations whose control check is DOWN: their results are not held against the target. */
  probeHostFaults: string[];
  /**
   * Locations whose run of the newest schedule slot is still to come: until they report (at
   * most one interval), a state change in that slot is not judged yet and the verdict is the
   * one before it.
   */
  awaiting: string[];
}

export interface VerdictLocation {
  id: string;
  side: LocationSide;
  /** A worker at this location reported a heartbeat recently. */
  live: boolean;
  /** This location's control check is DOWN. */
  controlDown: boolean;
}

export function sideOf(id: string, side?: LocationSide): LocationSide {
  return side ?? (id.startsWith('outside') ? 'outside' : 'inside');
}

export function computeVerdict(
  locations: VerdictLocation[],
  states: Record<string, CheckState | undefined>,
  awaiting: string[] = [],
): Verdict {
  const unavailable = locations.filter((location) => !location.live).map((location) => location.id);
  const probeHostFaults = locations
    .filter((location) => location.live && location.controlDown)
    .map((location) => location.id);
  const usable = locations.filter(
    (location) =>
      location.live && !location.controlDown && (states[location.id]?.state ?? 'UNKNOWN') !== 'UNKNOWN',
  );
  const down = usable.filter((location) => states[location.id]?.state === 'DOWN');
  const base = { down: down.map((location) => location.id), unavailable, probeHostFaults, awaiting };
  const names = (list: VerdictLocation[]) => list.map((location) => location.id).join(', ');
  if (down.length === 0) {
    // A broken probe host is trouble worth a verdict of its own even while the other
    // locations pass: its results say nothing about the target, and someone must fix it.
    if (probeHostFaults.length > 0) {
      const passing =
        usable.length > 0 ? ` while ${names(usable)} pass${usable.length === 1 ? 'es' : ''}` : '';
      return {
        verdict: 'probe-host',
        summary: `the probe host at ${probeHostFaults.join(', ')} is at fault (its control check is down), not the target${passing}`,
        ...base,
      };
    }
    if (usable.length > 0)
      return { verdict: 'ok', summary: 'passing from every location that reports', ...base };
    return { verdict: 'no-data', summary: 'no location with a live worker has reported yet', ...base };
  }
  if (down.length === usable.length) {
    return {
      verdict: 'service',
      summary: `failing from every location (${names(down)}): the service itself`,
      ...base,
    };
  }
  const downSides = new Set(down.map((location) => location.side));
  const upSides = new Set(
    usable.filter((location) => !down.includes(location)).map((location) => location.side),
  );
  if (downSides.size === 1 && downSides.has('outside') && upSides.has('inside')) {
    return {
      verdict: 'outside-path',
      summary: `failing only from outside (${names(down)}) while inside passes: the path between the outside and us`,
      ...base,
    };
  }
  if (downSides.size === 1 && downSides.has('inside') && upSides.has('outside')) {
    return {
      verdict: 'inside-path',
      summary: `failing only from inside (${names(down)}) while outside passes: the path inside the data centre`,
      ...base,
    };
  }
  return { verdict: 'partial', summary: `failing from ${names(down)} only`, ...base };
}
