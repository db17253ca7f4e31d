import type { MonitoredItem } from '../api/routes/checks-routes.ts';
import type { PageLanguage } from '../evidence/run-page/messages.ts';
import type { RollupReader } from '../reports/rollup-reader.ts';
import { addCounts, countsQuantile, emptyCounts } from '../reports/series-counts.ts';
import type { ResultsRecorder } from '../results/results-recorder.ts';
import type { RunResult } from '../results/run-result.ts';
import { CHECK_RANGES, type CheckRange, utcInputValue } from './check-range.ts';
import { type ConsoleMessageKey, consoleTranslator } from './console-messages.ts';
import { utcMinute } from './utc-minute.ts';

export { CHECK_RANGES };

/** Runs a check page reads at most to find those of its range (the newest first). */
const MAX_RUNS_READ = 2000;
/** Runs the phases chart draws at most: the newest of the range. */
const PHASE_RUNS = 200;

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
  /** Missed slots (no run stored), as spans the charts shade: start and end epoch s. */
  gaps: Array<{ location: string; start: number; end: number; count: number }>;
}

export interface CheckView {
  language: PageLanguage;
  item: MonitoredItem;
  range: CheckRangeView;
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
  /** p50, p95, p99 over the whole range per location, then all locations together (location absent). */
  rangePercentiles: Array<{ location?: string; runs: number; p50?: number; p95?: number; p99?: number }>;
}

/** The range as the page shows and links it. */
export interface CheckRangeView {
  /** The preset chosen (hours), absent for a custom range. */
  preset?: number;
  presets: Array<{ hours: number; label: string; current: boolean }>;
  /** datetime-local values (UTC) of the range's ends; a custom range's are kept in links. */
  fromInput: string;
  toInput: string;
  custom: boolean;
  /** "2026-12-07 14:00 UTC – 2026-12-07 18:00 UTC", and the whole hours the charts count. */
  label: string;
  hoursLabel: string;
}

/** The head of a check page (title, verdict aside, range choice): also what a refused range shows. */
export function checkRangeView(
  range: CheckRange | undefined,
  asked: { from?: string; to?: string },
  language: PageLanguage,
): CheckRangeView {
  const t = consoleTranslator(language);
  const hours = range?.hourStarts ?? [];
  return {
    preset: range?.preset,
    presets: CHECK_RANGES.map((preset) => ({
      hours: preset,
      label: t(preset === 24 ? 'range24h' : preset === 168 ? 'range7d' : 'range30d'),
      current: preset === range?.preset,
    })),
    // A refused range keeps what was typed, so it can be corrected.
    fromInput: range ? utcInputValue(range.from) : (asked.from ?? ''),
    toInput: range
      ? range.preset === undefined && !range.toNow
        ? utcInputValue(range.to)
        : ''
      : (asked.to ?? ''),
    custom: range ? range.preset === undefined : true,
    label: range ? `${utcMinute(range.from)} – ${utcMinute(range.to)}` : '',
    // Said only when the whole hours counted reach beyond the range asked.
    hoursLabel:
      hours.length > 0 && range && (hours[0] !== range.from || (hours.at(-1) ?? 0) + 3_600_000 !== range.to)
        ? t('rangeHours', {
            from: utcMinute(hours[0]),
            to: utcMinute((hours.at(-1) ?? 0) + 3_600_000),
            count: hours.length,
          })
        : '',
  };
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
 * One check's page over a range (a preset or from/to): its state, availability per location,
 * latency percentiles per hour and over the whole range, each phase or step of the range's
 * runs (drawn by uPlot in the browser from the data embedded in the page), its incidents with
 * the alerts each sent, the range's runs and the slots that had none.
 */
export async function buildCheckView(
  sources: {
    recorder: ResultsRecorder;
    /** The reports' reader of rollups: the range's percentiles are summed as a report's are. */
    rollups?: Pick<RollupReader, 'sums'>;
    /** Runs kept per check and location (settings.runsPerSeries): all a range can list. */
    runsPerSeries: number;
  },
  item: MonitoredItem,
  query: { range: CheckRange; location?: string; status?: string },
  language: PageLanguage,
  now = Date.now(),
): Promise<CheckView> {
  const t = consoleTranslator(language);
  const { recorder } = sources;
  const { range } = query;
  const hourCount = range.hourStarts.length;
  // hourly() counts back from the hour holding its `now`: the range's last hour.
  const lastHour = range.hourStarts.at(-1) ?? range.to;
  const series = item.locations.map((location) => ({ checkId: item.id, location }));
  const runsToRead = Math.min(
    MAX_RUNS_READ,
    sources.runsPerSeries * (query.location ? 1 : item.locations.length),
  );
  const [states, rollups, sums, incidents, alerts, stored] = await Promise.all([
    recorder.states.forCheck(item.id, item.locations),
    Promise.all(
      item.locations.map((location) => recorder.rollups.hourly(item.id, location, hourCount, lastHour)),
    ),
    sources.rollups?.sums(series.map((one) => ({ series: one, hours: range.hourStarts }))),
    // Those that overlap the range: started before its end (here), not ended before its start (below).
    recorder.incidents.list(item.id, 20, { startedBefore: range.to }),
    recorder.alerts.list(500, item.id),
    recorder.runs.listRuns(item.id, { location: query.location, limit: runsToRead }),
  ]);
  // The runs of the range, newest first (the index is; a range in the past skips the newer).
  const listed = stored.filter((run) => run.startedAt >= range.from && run.startedAt < range.to);
  const verdict = await recorder.verdict(item.id, item.locations, { states, now });
  const runs = query.status ? listed.filter((run) => run.status === query.status) : listed;
  const gaps = (
    await recorder.missedSlots.gaps(item.id, query.location ? [query.location] : item.locations, {
      since: range.from,
      limit: 200,
    })
  )
    .filter((gap) => gap.start < range.to)
    .slice(0, 50);
  const hours = (rollups[0] ?? []).map((row) => Math.floor(row.hour / 1000));
  const total = emptyCounts();
  for (const counts of sums ?? []) addCounts(total, counts);
  const percentilesOf = (location: string | undefined, counts: typeof total) => ({
    location,
    runs: counts.runs,
    p50: countsQuantile(counts.buckets, 0.5),
    p95: countsQuantile(counts.buckets, 0.95),
    p99: countsQuantile(counts.buckets, 0.99),
  });
  return {
    language,
    item,
    range: checkRangeView(range, {}, language),
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
    incidents: incidents
      .filter((incident) => incident.end === undefined || incident.end >= range.from)
      .map((incident) => ({
        id: incident.id,
        start: utcMinute(incident.start),
        end: incident.end === undefined ? undefined : utcMinute(incident.end),
        locations: incident.locations.join(', '),
        verdict: incident.verdict ? t(`verdict_${incident.verdict}` as ConsoleMessageKey) : '',
        firstError: incident.firstError,
        alerts: alerts
          .filter((alert) => alert.incidentId === incident.id)
          .map((alert) => ({
            kind: alert.kind,
            list: alert.list,
            channel: alert.channel,
            state: alert.state,
          })),
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
      phases: phaseSeries(listed.slice(0, PHASE_RUNS)),
      gaps: gaps.map((gap) => ({
        location: gap.location,
        start: Math.floor(gap.start / 1000),
        // A gap of one slot has start = end: it spans its slot.
        end: Math.floor(Math.max(gap.end, gap.start + 1000) / 1000),
        count: gap.count,
      })),
    },
    rangePercentiles: sums
      ? [
          ...item.locations.map((location, index) => percentilesOf(location, sums[index])),
          ...(item.locations.length > 1 ? [percentilesOf(undefined, total)] : []),
        ]
      : [],
  };
}
