import type { MaintenanceCalendar } from '../alerts/maintenance-calendar.ts';
import { coversTarget } from '../alerts/maintenance-calendar.ts';
import { bucketIndex, LATENCY_BUCKETS_MS } from '../results/latency-histogram.ts';
import type { ResultStore } from '../results/result-store.ts';
import type { RunResult } from '../results/run-result.ts';
import { DAY_MS, HOUR_MS, type ReportPeriod, type ReportWindow } from './report-window.ts';
import type { RollupReader, Series } from './rollup-reader.ts';
import { addCounts, countsQuantile, emptyCounts, type SeriesCounts } from './series-counts.ts';

/**
 * A day's summary is kept only this long after the day ends: a run is counted in the hour
 * it started, and one that started before midnight may be recorded minutes later (a
 * journey, a confirmation retry); after this the day is taken as final.
 */
const DAY_SETTLES_AFTER_MS = HOUR_MS;

/** A check or journey as a report lists it (MonitoredItem fits). */
export interface ReportItem {
  id: string;
  name: string;
  kind: string;
  locations: string[];
  tags?: string[];
}

/** One check at one location, or (no `location`) at all of them. */
export interface ReportRow {
  location?: string;
  /** Counted runs outside maintenance. Fractions only from a partly maintained hour whose runs are gone. */
  runs: number;
  failures: number;
  degraded: number;
  /** Runs left out because a maintenance window covering the series ran then. */
  excludedRuns: number;
  /** Runs not failed ÷ runs, in percent (4 decimals); absent without runs. */
  availability?: number;
  /** Latency percentiles (ms): the upper bound of the histogram bucket holding them. */
  p50?: number;
  p95?: number;
  p99?: number;
  errorBudget: {
    /** 100 − target: the share of runs that may fail (%). */
    allowedPercent: number;
    /** What is left of it (% of the budget, 2 decimals); negative when blown, 100 without runs. */
    leftPercent: number;
  };
}

export interface CheckReport {
  id: string;
  name: string;
  kind: string;
  locations: ReportRow[];
  total: ReportRow;
}

export interface Report {
  period: ReportPeriod;
  from: number;
  to: number;
  target: number;
  /** Bucket bounds (ms) the percentiles come from: their resolution. */
  latencyBucketsMs: number[];
  checks: CheckReport[];
}

export interface ReportSources {
  reader: RollupReader;
  /** Stored runs, for hours a maintenance window covers only in part. */
  runs: Pick<ResultStore, 'listRuns'>;
  /** Runs kept per series: how many listRuns returns at most. */
  runsPerSeries: number;
  /** How long rollups are kept: a day summary is not kept past it. */
  keepDays: number;
  maintenance?: Pick<MaintenanceCalendar, 'list' | 'occurrences'>;
}

interface Interval {
  start: number;
  end: number;
}

/** What one series adds up to, and the hours it still has to be told about exactly. */
interface SeriesTally {
  series: Series;
  covered: Interval[];
  counts: SeriesCounts;
  excluded: number;
  partial: Array<{ hour: number; counts: SeriesCounts }>;
}

const round = (value: number, decimals: number) => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
};

/** Sorted, merged, clipped to [from, to). */
function mergeIntervals(intervals: Interval[], from: number, to: number): Interval[] {
  const clipped = intervals
    .map((interval) => ({ start: Math.max(from, interval.start), end: Math.min(to, interval.end) }))
    .filter((interval) => interval.end > interval.start)
    .sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const interval of clipped) {
    const last = merged.at(-1);
    if (last && interval.start <= last.end) last.end = Math.max(last.end, interval.end);
    else merged.push({ ...interval });
  }
  return merged;
}

/** The hours from `start` to `end` (both on hour boundaries). */
function hoursOf(start: number, end: number): number[] {
  const hours: number[] = [];
  for (let hour = start; hour < end; hour += HOUR_MS) hours.push(hour);
  return hours;
}

/** Milliseconds of [start, end) the intervals cover. */
function coveredMs(covered: Interval[], start: number, end: number): number {
  let total = 0;
  for (const interval of covered)
    total += Math.max(0, Math.min(end, interval.end) - Math.max(start, interval.start));
  return total;
}

const isCovered = (covered: Interval[], at: number) =>
  covered.some((interval) => at >= interval.start && at < interval.end);

/**
 * The runs that counted (recordRun with `counted`): a failed attempt retried at once is
 * stored as `<id>`, then `<id>-2`…; only the last stored attempt of each counts.
 */
function countedRuns(runs: RunResult[]): RunResult[] {
  const last = new Map<string, RunResult>();
  for (const run of runs) {
    const base = run.attempt > 1 ? run.runId.replace(/-\d+$/, '') : run.runId;
    const seen = last.get(base);
    if (!seen || run.attempt > seen.attempt) last.set(base, run);
  }
  return [...last.values()];
}

function countsOfRuns(runs: RunResult[]): SeriesCounts {
  const counts = emptyCounts();
  for (const run of runs) {
    counts.runs++;
    if (run.status === 'fail') counts.failures++;
    else if (run.status === 'degraded') counts.degraded++;
    counts.buckets[bucketIndex(run.phases.total)]++;
  }
  return counts;
}

function rowOf(counts: SeriesCounts, excluded: number, target: number, location?: string): ReportRow {
  const allowedPercent = round(100 - target, 6);
  const failedPercent = counts.runs > 0 ? (counts.failures / counts.runs) * 100 : 0;
  const row: ReportRow = {
    ...(location === undefined ? {} : { location }),
    runs: round(counts.runs, 2),
    failures: round(counts.failures, 2),
    degraded: round(counts.degraded, 2),
    excludedRuns: round(excluded, 2),
    errorBudget: {
      allowedPercent,
      leftPercent: round(((allowedPercent - failedPercent) / allowedPercent) * 100, 2),
    },
  };
  if (counts.runs > 0) {
    row.availability = round(((counts.runs - counts.failures) / counts.runs) * 100, 4);
    row.p50 = countsQuantile(counts.buckets, 0.5);
    row.p95 = countsQuantile(counts.buckets, 0.95);
    row.p99 = countsQuantile(counts.buckets, 0.99);
  }
  return row;
}

/**
 * Availability and latency of every check and journey at each location over a window,
 * from the hourly rollups (what is kept for a month), with maintenance left out:
 *
 * - Availability is runs not failed ÷ counted runs. A degraded run held (it was slow, not
 *   down); an `error` run is pathwatch's own failure and the rollups count it as not failed.
 * - A run counts where it started: an hour wholly inside a maintenance occurrence covering
 *   the series is dropped; an hour covered in part is counted exactly from its stored runs
 *   when they are all still there (as many counted runs as the rollup has), leaving out
 *   those that started inside the window; otherwise (runs aged out of `runsPerSeries`) the
 *   hour counts the uncovered share of its rollup: 15 of 60 minutes covered keeps 3/4 of
 *   its runs, failures and histogram.
 * - Percentiles come from the hours' histograms merged: the bound of the bucket holding
 *   them (LATENCY_BUCKETS_MS: 5, 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5, 10, 30, 60 s).
 */
export async function computeReport(
  sources: ReportSources,
  options: { items: ReportItem[]; window: ReportWindow; target: number; now?: number },
): Promise<Report> {
  const { items, window, target } = options;
  const now = options.now ?? Date.now();
  const { from, to } = window;
  const covering = await maintenanceCovering(sources.maintenance, from, to);
  const tallies: SeriesTally[] = items.flatMap((item) =>
    item.locations.map((location) => ({
      series: { checkId: item.id, location },
      covered: covering(item, location),
      counts: emptyCounts(),
      excluded: 0,
      partial: [],
    })),
  );

  // Whole days that are over come from their summaries (the sum of their 24 hours), the
  // other hours summed in Redis; the hours a maintenance window touched are read alone, and
  // taken back out of a day's sum.
  const summarised = (day: number) =>
    day + DAY_MS + DAY_SETTLES_AFTER_MS <= now && day + sources.keepDays * DAY_MS > now;
  const firstDay = Math.ceil(from / DAY_MS) * DAY_MS;
  const wantedDays: Array<{ tally: SeriesTally; day: number }> = [];
  for (const tally of tallies)
    for (let day = firstDay; day + DAY_MS <= to; day += DAY_MS)
      if (summarised(day)) wantedDays.push({ tally, day });
  const inSummary = (hour: number) => {
    const day = hour - (hour % DAY_MS);
    return day >= from && day + DAY_MS <= to && summarised(day);
  };
  const summaries = await sources.reader.days(
    wantedDays.map(({ tally, day }) => ({ series: tally.series, day })),
  );
  /** Groups of one series' hours to sum: what each sum is for. */
  const groups: Array<{ tally: SeriesTally; hours: number[]; use: 'add' | 'day' | 'covered'; day?: number }> =
    [];
  for (const [index, { tally, day }] of wantedDays.entries()) {
    const summary = summaries[index];
    if (summary) addCounts(tally.counts, summary);
    // A day not summarised yet is summed by the hour, and its summary kept for the next report.
    else groups.push({ tally, day, use: 'day', hours: hoursOf(day, day + DAY_MS) });
  }
  // The same for every series but for the hours its maintenance touched.
  const unsummarised = hoursOf(from, to).filter((hour) => !inSummary(hour));
  for (const tally of tallies) {
    const touched = new Set<number>();
    for (const { start, end } of tally.covered)
      for (let hour = start - (start % HOUR_MS); hour < end; hour += HOUR_MS) touched.add(hour);
    for (const hour of touched) groups.push({ tally, use: 'covered', hours: [hour] });
    const plain = touched.size > 0 ? unsummarised.filter((hour) => !touched.has(hour)) : unsummarised;
    groups.push({ tally, use: 'add', hours: plain });
  }
  const sums = await sources.reader.sums(groups.map(({ tally, hours }) => ({ series: tally.series, hours })));
  const freshDays: Array<{ series: Series; day: number; counts: SeriesCounts }> = [];
  for (const [index, { tally, hours, use, day }] of groups.entries()) {
    const counts = sums[index];
    if (use !== 'covered') {
      addCounts(tally.counts, counts);
      if (use === 'day') freshDays.push({ series: tally.series, day: day!, counts });
      continue;
    }
    const hour = hours[0];
    if (inSummary(hour)) addCounts(tally.counts, counts, -1);
    if (coveredMs(tally.covered, hour, hour + HOUR_MS) >= HOUR_MS) tally.excluded += counts.runs;
    else if (counts.runs > 0) tally.partial.push({ hour, counts });
  }
  await Promise.all(
    tallies.filter((tally) => tally.partial.length > 0).map((tally) => countPartialHours(sources, tally)),
  );
  await sources.reader.saveDays(freshDays);

  const byItem = new Map<string, SeriesTally[]>();
  for (const tally of tallies)
    byItem.set(tally.series.checkId, [...(byItem.get(tally.series.checkId) ?? []), tally]);
  return {
    period: window.period,
    from,
    to,
    target,
    latencyBucketsMs: LATENCY_BUCKETS_MS.filter(Number.isFinite),
    checks: items.map((item) => {
      const own = byItem.get(item.id) ?? [];
      const total = emptyCounts();
      for (const tally of own) addCounts(total, tally.counts);
      return {
        id: item.id,
        name: item.name,
        kind: item.kind,
        locations: own.map((tally) => rowOf(tally.counts, tally.excluded, target, tally.series.location)),
        total: rowOf(
          total,
          own.reduce((sum, tally) => sum + tally.excluded, 0),
          target,
        ),
      };
    }),
  };
}

/**
 * The maintenance of [from, to) as a function of a series: its occurrences merged. Each
 * window's occurrences are walked once per report (a nightly cron over a month is 30
 * steps), not once per series; a window covers a check at a location as
 * MaintenanceCalendar.covering judges an alert about it there (coversTarget, shared).
 */
async function maintenanceCovering(
  calendar: ReportSources['maintenance'],
  from: number,
  to: number,
): Promise<(item: ReportItem, location: string) => Interval[]> {
  if (!calendar) return () => [];
  const windows = await calendar.list();
  const occurrences = await calendar.occurrences(from, to - 1);
  const byWindow = windows
    .map((window) => ({
      window,
      intervals: occurrences.filter((occurrence) => occurrence.name === window.name),
    }))
    .filter(({ intervals }) => intervals.length > 0);
  return (item, location) =>
    mergeIntervals(
      byWindow
        .filter(({ window }) =>
          coversTarget(window, { checkId: item.id, tags: item.tags ?? [], locations: [location] }),
        )
        .flatMap(({ intervals }) => intervals),
      from,
      to,
    );
}

/** Partly maintained hours: exact from the stored runs when all are there, else their uncovered share. */
async function countPartialHours(sources: ReportSources, tally: SeriesTally): Promise<void> {
  const stored = countedRuns(
    await sources.runs.listRuns(tally.series.checkId, {
      location: tally.series.location,
      limit: sources.runsPerSeries,
    }),
  );
  for (const { hour, counts } of tally.partial) {
    const inHour = stored.filter((run) => run.startedAt >= hour && run.startedAt < hour + HOUR_MS);
    if (inHour.length === counts.runs) {
      const kept = inHour.filter((run) => !isCovered(tally.covered, run.startedAt));
      addCounts(tally.counts, countsOfRuns(kept));
      tally.excluded += inHour.length - kept.length;
    } else {
      const share = 1 - coveredMs(tally.covered, hour, hour + HOUR_MS) / HOUR_MS;
      addCounts(tally.counts, counts, share);
      tally.excluded += counts.runs * (1 - share);
    }
  }
}
