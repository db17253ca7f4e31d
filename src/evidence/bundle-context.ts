import type { RunResult } from '../results/run-result.ts';
import { formatUtc, formatZoned } from './zoned-time.ts';

/** What the bundle's texts are written from: stored run records only (already masked). */
export interface BundleContext {
  run: RunResult;
  check: { id: string; name: string; kind: string };
  /** The runs of the run's slot at every location (slotRunsOf). */
  slot: RunResult[];
  /** The run and its neighbours in its series (seriesAround). */
  series: RunResult[];
  /** The operator's time zone (IANA name), written beside UTC. */
  timeZone: string;
  /** `locations.<id>.description` from the config, for the vendor's reader. */
  locationDescriptions: Record<string, string | undefined>;
}

/** A time in UTC, and in the operator's zone unless that is UTC. */
export function bothTimes(ms: number, zone: string): string {
  return zone === 'UTC' ? formatUtc(ms) : `${formatUtc(ms)} (${formatZoned(ms, zone)} ${zone})`;
}

/** `fail CONNECT_TIMEOUT: connect to 10.0.0.5:443 timed out after 5000 ms`, or `pass`. */
export function outcomeOf(run: RunResult): string {
  if (!run.error) return run.status;
  const code = run.error.code ?? run.error.class;
  return `${run.status} ${code}: ${run.error.message}`;
}
