import { humanDuration } from '../alerts/alert-message.ts';
import type { MonitoredItem } from '../api/routes/checks-routes.ts';
import type { PageLanguage } from '../evidence/run-page/messages.ts';
import type { LocationView, ResultsRecorder } from '../results/results-recorder.ts';
import type { CheckState } from '../results/state-store.ts';
import { type ConsoleMessageKey, type ConsoleTranslator, consoleTranslator } from './console-messages.ts';
import { utcMinute } from './utc-minute.ts';

/** Hours a row's sparkline covers. */
export const SPARK_HOURS = 24;

/**
 * Rows a status page shows at most: a thousand checks at two locations made 2 MB of HTML,
 * nine times the JSON of the API; the worst come first, so page one is the one to watch.
 */
export const STATUS_PAGE_ROWS = 200;

/** The states in the order a person triages them: worst first. */
const STATE_ORDER = ['DOWN', 'DEGRADED', 'NO WORKER', 'UNKNOWN', 'UP'] as const;

export interface StatusFilters {
  /** `<location>~<target>`: one path of the map (its checks, at that location). */
  path?: string;
  tag?: string;
  kind?: string;
  state?: string;
  location?: string;
}

export interface StatusCell {
  location: string;
  state: string;
  label: string;
  /** "since 14:02 UTC" and "for 3 min 12 s". */
  since?: string;
  lasting?: string;
  lastError?: string;
}

export interface StatusRow {
  id: string;
  name: string;
  kind: string;
  tags: string[];
  worst: string;
  verdict: string;
  verdictLabel: string;
  cells: StatusCell[];
  /** Availability per hour, oldest first; null where nothing ran. */
  spark: Array<number | null>;
}

export interface StatusBanner {
  kind: 'maintenance' | 'no-worker';
  text: string;
}

/** Where the shown rows sit among all that match, and links to their neighbours. */
export interface StatusPager {
  page: number;
  pages: number;
  /** "rows 201–400 of 1000". */
  text: string;
  previousHref?: string;
  nextHref?: string;
}

export interface StatusView {
  language: PageLanguage;
  /** This page's rows (see STATUS_PAGE_ROWS); the counts and summary cover every row. */
  rows: StatusRow[];
  pager?: StatusPager;
  locations: string[];
  summary: string;
  counts: Record<string, number>;
  filters: StatusFilters;
  options: { tags: string[]; kinds: string[]; states: string[]; locations: string[] };
  banners: StatusBanner[];
  updatedAt: string;
}

/** What a status page needs beyond the recorder: the windows running now. */
export interface StatusSources {
  recorder: ResultsRecorder;
  items: MonitoredItem[];
  locations: string[];
  /** The target (`host[:port]`) an item talks to, as the map names it. */
  targetOf?: (id: string) => string | undefined;
  activeMaintenance?: (now: number) => Promise<Array<{ name: string; reason?: string; end: number }>>;
}

function stateOf(state: CheckState | undefined, view: LocationView | undefined): string {
  if (view && !view.live) return 'NO WORKER';
  return state?.state ?? 'UNKNOWN';
}

/**
 * How long a state has lasted, to the minute: a table whose text ticked every second would
 * never answer its refresh with 304, and a wall screen would fetch it whole every 5 s.
 */
function lastingDuration(ms: number, language: PageLanguage, t: ConsoleTranslator): string {
  return ms < 60_000 ? t('underAMinute') : humanDuration(ms - (ms % 60_000), language);
}

/**
 * The status page's content: every check and journey × location with its state, how long it
 * has been so, the verdict across locations and a 24-hour sparkline, worst first, filtered.
 */
export async function buildStatusView(
  sources: StatusSources,
  filters: StatusFilters,
  language: PageLanguage,
  now = Date.now(),
  paging: { page: number; pageRows?: number } = { page: 1 },
): Promise<StatusView> {
  const t = consoleTranslator(language);
  const { recorder } = sources;
  const views = await recorder.describeLocations(sources.locations);
  const viewOf = new Map(views.map((view) => [view.id, view]));
  const [pathLocation, pathTarget] = filters.path ? filters.path.split('~') : [];
  const pathFilter = filters.path !== undefined;
  const items = sources.items.filter(
    (item) =>
      (!pathFilter ||
        (item.locations.includes(pathLocation ?? '') && sources.targetOf?.(item.id) === pathTarget)) &&
      (!filters.tag || (item.tags ?? []).includes(filters.tag)) &&
      (!filters.kind || item.kind === filters.kind) &&
      (!filters.location || item.locations.includes(filters.location)),
  );
  // A path is one location's view of a target: the others' columns would only distract.
  const shownLocations = pathFilter && pathLocation ? [pathLocation] : sources.locations;
  const allStates = await Promise.all(items.map((item) => recorder.states.forCheck(item.id, item.locations)));
  const locationsOf = new Map(items.map((item) => [item.id, item.locations]));
  const rows: StatusRow[] = [];
  for (const [index, item] of items.entries()) {
    const states = allStates[index];
    const verdict = await recorder.verdict(item.id, item.locations, { states, views, now });
    const cells = item.locations.map((location): StatusCell => {
      const state = states[location];
      const name = stateOf(state, viewOf.get(location));
      const since = state && name !== 'UNKNOWN' && name !== 'NO WORKER' ? state.since : undefined;
      return {
        location,
        state: name,
        label: t(`state${name}` as ConsoleMessageKey),
        since: since ? t('since', { time: utcMinute(since) }) : undefined,
        lasting: since
          ? t('for', { duration: lastingDuration(Math.max(0, now - since), language, t) })
          : undefined,
        lastError: name === 'DOWN' || name === 'DEGRADED' ? state?.lastError : undefined,
      };
    });
    const worst = STATE_ORDER.find((state) => cells.some((cell) => cell.state === state)) ?? 'UNKNOWN';
    if (filters.state && !cells.some((cell) => cell.state === filters.state)) continue;
    rows.push({
      id: item.id,
      name: item.name ?? item.id,
      kind: item.kind,
      tags: item.tags ?? [],
      worst,
      verdict: verdict.verdict,
      verdictLabel: t(`verdict_${verdict.verdict}` as ConsoleMessageKey),
      cells,
      // Filled in for the rows of the page shown (below): the rollups are the costly read.
      spark: [],
    });
  }
  rows.sort(
    (a, b) =>
      STATE_ORDER.indexOf(a.worst as (typeof STATE_ORDER)[number]) -
        STATE_ORDER.indexOf(b.worst as (typeof STATE_ORDER)[number]) || a.name.localeCompare(b.name),
  );
  const counts: Record<string, number> = { DOWN: 0, DEGRADED: 0, UP: 0, UNKNOWN: 0 };
  for (const row of rows) counts[row.worst === 'NO WORKER' ? 'UNKNOWN' : row.worst]++;
  const banners: StatusBanner[] = [];
  for (const window of (await sources.activeMaintenance?.(now)) ?? []) {
    banners.push({
      kind: 'maintenance',
      text: t('maintenanceBanner', {
        name: window.name,
        end: utcMinute(window.end),
        reason: window.reason ? ` (${window.reason})` : '',
      }),
    });
  }
  for (const view of views) {
    if (!view.live) banners.push({ kind: 'no-worker', text: t('noWorkerBanner', { location: view.id }) });
  }
  // A page past the last (rows recovered and left the filter) shows the last one.
  const pageRows = paging.pageRows ?? STATUS_PAGE_ROWS;
  const pages = Math.max(1, Math.ceil(rows.length / pageRows));
  const page = Math.min(Math.max(1, paging.page), pages);
  const first = (page - 1) * pageRows;
  const shown = rows.slice(first, first + pageRows);
  const pairs = shown.flatMap((row) =>
    (locationsOf.get(row.id) ?? []).map((location) => ({ checkId: row.id, location })),
  );
  const sparks = await recorder.rollups.hourlyCounts(pairs, SPARK_HOURS, now);
  let next = 0;
  for (const row of shown) {
    const hourly = (locationsOf.get(row.id) ?? []).map(() => sparks[next++] ?? []);
    row.spark = Array.from({ length: SPARK_HOURS }, (_, hour) => {
      const count = hourly.reduce((sum, counts) => sum + (counts[hour]?.count ?? 0), 0);
      const failures = hourly.reduce((sum, counts) => sum + (counts[hour]?.failures ?? 0), 0);
      return count === 0 ? null : (count - failures) / count;
    });
  }
  const hrefOf = (target: number) => {
    const query = new URLSearchParams({ lang: language });
    for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
    query.set('page', String(target));
    return `/?${query}`;
  };
  return {
    language,
    rows: shown,
    pager:
      pages > 1
        ? {
            page,
            pages,
            text: t('pagerRows', { first: first + 1, last: first + shown.length, total: rows.length }),
            previousHref: page > 1 ? hrefOf(page - 1) : undefined,
            nextHref: page < pages ? hrefOf(page + 1) : undefined,
          }
        : undefined,
    locations: shownLocations,
    summary: t('statusSummary', {
      down: counts.DOWN,
      degraded: counts.DEGRADED,
      up: counts.UP,
      unknown: counts.UNKNOWN,
    }),
    counts,
    filters,
    options: {
      tags: [...new Set(sources.items.flatMap((item) => item.tags ?? []))].sort(),
      kinds: [...new Set(sources.items.map((item) => item.kind))].sort(),
      states: ['DOWN', 'DEGRADED', 'UNKNOWN', 'NO WORKER', 'UP'],
      locations: sources.locations,
    },
    banners,
    updatedAt: t('updated', { time: utcMinute(now) }),
  };
}
