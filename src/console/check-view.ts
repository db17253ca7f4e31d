import type { MonitoredItem } from '../api/routes/checks-routes.ts';
import type { PageLanguage } from '../evidence/run-page/messages.ts';
import type { ResultsRecorder } from '../results/results-recorder.ts';
import type { RunResult } from '../results/run-result.ts';
import { type ConsoleMessageKey, consoleTranslator } from './console-messages.ts';
import { utcMinute } from './utc-minute.ts';

/** Ranges the check page offers, in hours: a day, a week, a month. */
export const CHECK_RANGES = [24, 168, 720] as const;

export interface CheckChartData {
  /** Hour starts, epoch seconds (uPlot's x). */
  hours: number[];
  /** Per location: p50, p95, p99 per hour (ms), null where nothing ran. */
  percentiles: Array<{
    location: string;
    p50: Array<number | null>;
    p95: Array<number | null>;
    p99: Array<number | null>;
  }>;
  /** The listed runs, oldest first: their start (epoch s) and each phase's or step's ms. */
  phases: { at: number[]; series: Array<{ name: string; values: Array<number | null> }> };
}

export interface CheckView {
  language: PageLanguage;
  item: MonitoredItem;
  hours: number;
  ranges: Array<{ hours: number; label: string; current: boolean }>;
  verdictLabel: string;
  locations: Array<{ id: string; state: string; label: string; availability?: string; runs: number }>;
  incidents: Array<{
    id: string;
    start: string;
    end?: string;
    locations: string;
    verdict: string;
    firstError?: string;
    maintenance?: string;
    alerts: Array<{ kind: string; list: string; channel: string; state: string }>;
  }>;
  runs: Array<{ runId: string; at: string; location: string; status: string; ms?: number; error?: string }>;
  gaps: Array<{ location: string; start: string; end: string; count: number }>;
  filters: { location?: string; status?: string };
  chart: CheckChartData;
}

/** Each phase's (http…) or step's (journeys) milliseconds per run, oldest first. */
function phaseSeries(runs: RunResult[]): CheckChartData['phases'] {
  const ordered = [...runs].sort((a, b) => a.startedAt - b.startedAt);
  const names = new Set<string>();
  for (const run of ordered) {
    if (run.steps?.length) for (const step of run.steps) names.add(`step: ${step.name}`);
    else for (const name of Object.keys(run.phases ?? {})) if (name !== 'total') names.add(name);
  }
  return {
    at: ordered.map((run) => Math.floor(run.startedAt / 1000)),
    series: [...names].map((name) => ({
      name,
      values: ordered.map((run) => {
        if (name.startsWith('step: '))
          return run.steps?.find((step) => `step: ${step.name}` === name)?.durationMs ?? null;
        const value = (run.phases as Record<string, number | undefined>)?.[name];
        return typeof value === 'number' ? value : null;
      }),
    })),
  };
}

/**
 * One check's page: its state and availability per location over the range, latency
 * percentiles per hour and each phase or step of the recent runs (drawn by uPlot in the
 * browser from the data embedded in the page), its incidents with the alerts each sent, its
 * runs and the slots that had none.
 */
export async function buildCheckView(
  recorder: ResultsRecorder,
  item: MonitoredItem,
  query: { hours: number; location?: string; status?: string },
  language: PageLanguage,
  now = Date.now(),
): Promise<CheckView> {
  const t = consoleTranslator(language);
  const [states, rollups, incidents, alerts, listed] = await Promise.all([
    recorder.states.forCheck(item.id, item.locations),
    Promise.all(
      item.locations.map((location) => recorder.rollups.hourly(item.id, location, query.hours, now)),
    ),
    recorder.incidents.list(item.id, 20),
    recorder.alerts.list(500, item.id),
    recorder.runs.listRuns(item.id, { location: query.location, limit: 100 }),
  ]);
  const verdict = await recorder.verdict(item.id, item.locations, { states, now });
  const runs = query.status ? listed.filter((run) => run.status === query.status) : listed;
  const oldest = listed.at(-1);
  const gaps = await recorder.missedSlots.gaps(item.id, query.location ? [query.location] : item.locations, {
    since: oldest ? (oldest.scheduledAt ?? oldest.startedAt) : undefined,
    limit: 50,
  });
  const hours = (rollups[0] ?? []).map((row) => Math.floor(row.hour / 1000));
  return {
    language,
    item,
    hours: query.hours,
    ranges: CHECK_RANGES.map((hours) => ({
      hours,
      label: t(hours === 24 ? 'range24h' : hours === 168 ? 'range7d' : 'range30d'),
      current: hours === query.hours,
    })),
    verdictLabel: t(`verdict_${verdict.verdict}` as ConsoleMessageKey),
    locations: item.locations.map((location, index) => {
      const rows = rollups[index] ?? [];
      const count = rows.reduce((sum, row) => sum + row.count, 0);
      const failures = rows.reduce((sum, row) => sum + row.failures, 0);
      const state = states[location]?.state ?? 'UNKNOWN';
      return {
        id: location,
        state,
        label: t(`state${state}` as ConsoleMessageKey),
        availability: count > 0 ? `${(((count - failures) / count) * 100).toFixed(3)} %` : undefined,
        runs: count,
      };
    }),
    incidents: incidents.map((incident) => ({
      id: incident.id,
      start: utcMinute(incident.start),
      end: incident.end === undefined ? undefined : utcMinute(incident.end),
      locations: incident.locations.join(', '),
      verdict: incident.verdict ? t(`verdict_${incident.verdict}` as ConsoleMessageKey) : '',
      firstError: incident.firstError,
      alerts: alerts
        .filter((alert) => alert.incidentId === incident.id)
        .map((alert) => ({ kind: alert.kind, list: alert.list, channel: alert.channel, state: alert.state })),
    })),
    runs: runs.slice(0, 50).map((run) => ({
      runId: run.runId,
      at: utcMinute(run.startedAt),
      location: run.location,
      status: run.status,
      ms: run.phases?.total,
      error: run.error?.message,
    })),
    gaps: gaps.map((gap) => ({
      location: gap.location,
      start: utcMinute(gap.start),
      end: utcMinute(gap.end),
      count: gap.count,
    })),
    filters: { location: query.location, status: query.status },
    chart: {
      hours,
      percentiles: item.locations.map((location, index) => ({
        location,
        p50: (rollups[index] ?? []).map((row) => (row.count > 0 ? (row.p50 ?? null) : null)),
        p95: (rollups[index] ?? []).map((row) => (row.count > 0 ? (row.p95 ?? null) : null)),
        p99: (rollups[index] ?? []).map((row) => (row.count > 0 ? (row.p99 ?? null) : null)),
      })),
      phases: phaseSeries(listed),
    },
  };
}
