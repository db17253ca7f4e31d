import { type CronExpression, CronExpressionParser } from 'cron-parser';
import type { Redis } from 'ioredis';
import type { MaintenanceWindowSettings } from '../config/maintenance-schema.ts';

/** What an alert is about, as a maintenance window matches it. */
export interface MaintenanceTarget {
  checkId?: string;
  tags?: string[];
  locations?: string[];
}

/** One occurrence of a window: when it runs and what it covers. */
export interface ActiveMaintenance {
  name: string;
  reason?: string;
  /** Epoch ms; the occurrence covers [start, end). */
  start: number;
  end: number;
  /** What it covers, e.g. `checks: shop; locations: outside` (empty: everything). */
  scope: string;
  source: 'config' | 'api';
}

export interface MaintenanceBoundary {
  kind: 'start' | 'end';
  at: number;
  occurrence: ActiveMaintenance;
  window: MaintenanceWindowSettings;
}

export type ListedMaintenanceWindow = MaintenanceWindowSettings & { source: 'config' | 'api' };

export interface MaintenanceCalendarOptions {
  /**
   * How long the API-made windows read from Redis are reused (ms). covering() runs before
   * every alert; one HGETALL a second bounds its Redis cost whatever the alert rate, and a
   * window added through another process's API holds alerts back within this long.
   * @defaultValue 1000
   */
  apiWindowsTtlMs?: number;
  /**
   * Most occurrences of one recurring window a single query walks through: a "* * * * *"
   * window over the API's default fortnight would otherwise be 20,160 of them.
   * @defaultValue 2000
   */
  maxOccurrencesPerWindow?: number;
}

/** A name the config or the API already has: the API answers 409. */
export class MaintenanceNameTakenError extends Error {
  constructor(
    readonly windowName: string,
    readonly takenBy: 'config' | 'api',
  ) {
    super(
      takenBy === 'config'
        ? `maintenance window "${windowName}" already exists in the config file; choose another name`
        : `maintenance window "${windowName}" already exists (made through the API); delete it first or choose another name`,
    );
  }
}

/** A config window asked to be removed through the API: it would come back at the next start. */
export class MaintenanceConfiguredError extends Error {
  constructor(readonly windowName: string) {
    super(
      `maintenance window "${windowName}" is set in the config file, not through the API; remove it from the config (maintenance[]) and restart`,
    );
  }
}

/** A window ready to be asked about: its cron compiled once, its one-off times parsed. */
interface CompiledWindow {
  settings: MaintenanceWindowSettings;
  source: 'config' | 'api';
  scope: string;
  /** Recurring: the parsed expression (stateful: reset before each walk, never awaited across). */
  cron?: CronExpression;
  /** How long an occurrence lasts (ms). */
  length: number;
  /** One-off: its one occurrence's start (epoch ms). */
  start?: number;
}

/** `checks: shop; tags: db; locations: outside`, or '' for everything. */
function scopeOf(window: MaintenanceWindowSettings): string {
  return (['checks', 'tags', 'locations'] as const)
    .filter((key) => window[key] !== undefined)
    .map((key) => `${key}: ${window[key]!.join(', ')}`)
    .join('; ');
}

function compile(settings: MaintenanceWindowSettings, source: 'config' | 'api'): CompiledWindow {
  const scope = scopeOf(settings);
  if (settings.cron !== undefined && settings.duration !== undefined) {
    return {
      settings,
      source,
      scope,
      cron: CronExpressionParser.parse(settings.cron, { tz: settings.timezone }),
      length: settings.duration,
    };
  }
  if (settings.start !== undefined && settings.end !== undefined) {
    const start = Date.parse(settings.start);
    const end = Date.parse(settings.end);
    if (Number.isFinite(start) && Number.isFinite(end) && end > start)
      return { settings, source, scope, start, length: end - start };
  }
  throw new Error(
    `maintenance window "${settings.name}": expected start and end, or cron and duration (validate it with maintenanceSchema)`,
  );
}

/**
 * The expression's next or previous time (epoch ms), or undefined when it has none (a
 * "29 2" expression searched past its limit). hasNext()/hasPrev() would search twice.
 */
function step(cron: CronExpression, direction: 'next' | 'prev'): number | undefined {
  try {
    return cron[direction]().getTime();
  } catch {
    return undefined;
  }
}

/** Whether the window's scope takes in the target (see MaintenanceCalendar.covering). */
/** Whether a window covers a target: every scope it sets matches (the one rule alerts and reports share). */
export function coversTarget(window: MaintenanceWindowSettings, target: MaintenanceTarget): boolean {
  if (window.checks && (target.checkId === undefined || !window.checks.includes(target.checkId)))
    return false;
  if (window.tags && !(target.tags ?? []).some((tag) => window.tags!.includes(tag))) return false;
  if (window.locations) {
    // An alert about no location in particular cannot be shown to be only where the work is.
    const locations = target.locations ?? [];
    if (locations.length === 0 || !locations.every((location) => window.locations!.includes(location)))
      return false;
  }
  return true;
}

/**
 * Maintenance windows, from the config and the API, as a calendar: which one covers an
 * alert now, which occurrences start and end in a stretch of time (to announce them) and
 * which ran in one (history). Windows made through the API live in one Redis hash,
 * `${prefix}:maintenance` (name → the window as JSON), shared by every process.
 */
export class MaintenanceCalendar {
  private readonly key: string;
  private readonly configured: CompiledWindow[];
  private readonly ttlMs: number;
  private readonly maxOccurrences: number;
  /** API windows compiled, by their stored JSON: an unchanged window is never parsed twice. */
  private compiledApi = new Map<string, CompiledWindow>();
  private apiCache?: { at: number; windows: CompiledWindow[] };
  private apiLoad?: Promise<CompiledWindow[]>;
  /** Bumped by every change made here: a read begun before it is not kept as the cache. */
  private generation = 0;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    configured: MaintenanceWindowSettings[],
    options: MaintenanceCalendarOptions = {},
  ) {
    this.key = `${prefix}:maintenance`;
    this.ttlMs = options.apiWindowsTtlMs ?? 1000;
    this.maxOccurrences = options.maxOccurrencesPerWindow ?? 2000;
    const seen = new Set<string>();
    for (const window of configured) {
      // The config schema refuses duplicates; a caller building settings in code gets told too.
      if (seen.has(window.name)) throw new MaintenanceNameTakenError(window.name, 'config');
      seen.add(window.name);
    }
    this.configured = configured.map((window) => compile(window, 'config'));
  }

  /**
   * The window covering the target at `at` (epoch ms), if any (the one ending last when
   * several do). A window covers a target when each scope it sets matches: `checks`
   * includes its checkId, `tags` shares one of its tags, `locations` includes EVERY one of
   * its locations (an alert that also fails at an uncovered location is real; one that
   * names no location is not held back by a window limited to some).
   */
  async covering(target: MaintenanceTarget, at: number): Promise<ActiveMaintenance | undefined> {
    let best: ActiveMaintenance | undefined;
    for (const window of await this.windows()) {
      if (!coversTarget(window.settings, target)) continue;
      const start = this.latestStart(window, at);
      if (start === undefined || start + window.length <= at) continue;
      if (!best || start + window.length > best.end) best = this.occurrence(window, start);
    }
    return best;
  }

  /** Starts and ends of occurrences in (from, to], in time order (an end before a start at the same time). */
  async boundaries(from: number, to: number): Promise<MaintenanceBoundary[]> {
    const boundaries: MaintenanceBoundary[] = [];
    for (const window of await this.windows()) {
      for (const start of this.startsBetween(window, from - window.length, to)) {
        const occurrence = this.occurrence(window, start);
        if (start > from) boundaries.push({ kind: 'start', at: start, occurrence, window: window.settings });
        if (occurrence.end > from && occurrence.end <= to)
          boundaries.push({ kind: 'end', at: occurrence.end, occurrence, window: window.settings });
      }
    }
    return boundaries.sort(
      (a, b) =>
        a.at - b.at ||
        (a.kind === b.kind ? 0 : a.kind === 'end' ? -1 : 1) ||
        a.occurrence.name.localeCompare(b.occurrence.name),
    );
  }

  /** Occurrences overlapping [from, to] (history and the API), by start. */
  async occurrences(from: number, to: number): Promise<ActiveMaintenance[]> {
    const found: ActiveMaintenance[] = [];
    for (const window of await this.windows()) {
      // A start exactly `length` before `from` ended at `from`: it ran, but not in [from, to].
      for (const start of this.startsBetween(window, from - window.length, to))
        found.push(this.occurrence(window, start));
    }
    return found.sort((a, b) => a.start - b.start || a.name.localeCompare(b.name));
  }

  /**
   * The occurrences overlapping [from, to] that cover the target, by start: what a check's
   * history shows beside an incident (the alerts it held back).
   */
  async coveringDuring(target: MaintenanceTarget, from: number, to: number): Promise<ActiveMaintenance[]> {
    const found: ActiveMaintenance[] = [];
    for (const window of await this.windows()) {
      if (!coversTarget(window.settings, target)) continue;
      for (const start of this.startsBetween(window, from - window.length, to)) {
        const occurrence = this.occurrence(window, start);
        if (occurrence.end > from && occurrence.start <= to) found.push(occurrence);
      }
    }
    return found.sort((a, b) => a.start - b.start || a.name.localeCompare(b.name));
  }

  /**
   * Stores a window made through the API (validated by maintenanceSchema); refuses a name
   * the config or the API already has (MaintenanceNameTakenError).
   */
  async add(window: MaintenanceWindowSettings): Promise<void> {
    if (this.configured.some((existing) => existing.settings.name === window.name))
      throw new MaintenanceNameTakenError(window.name, 'config');
    // Compiled before it is stored: what cannot be read is never kept.
    const json = JSON.stringify(window);
    this.compiledApi.set(json, compile(window, 'api'));
    // HSETNX: two callers adding one name at once cannot both succeed.
    const added = await this.redis.hsetnx(this.key, window.name, json);
    this.invalidate();
    if (added === 0) throw new MaintenanceNameTakenError(window.name, 'api');
  }

  /** Removes an API-made window; false when there is none by that name. Config windows: MaintenanceConfiguredError. */
  async remove(name: string): Promise<boolean> {
    if (this.configured.some((existing) => existing.settings.name === name))
      throw new MaintenanceConfiguredError(name);
    const removed = await this.redis.hdel(this.key, name);
    this.invalidate();
    return removed > 0;
  }

  /** Every window, the config's first, then the API's by name; read fresh from Redis. */
  async list(): Promise<ListedMaintenanceWindow[]> {
    this.invalidate();
    return (await this.windows()).map((window) => ({ ...window.settings, source: window.source }));
  }

  /** The config's windows and the API's (cached for apiWindowsTtlMs). */
  private async windows(): Promise<CompiledWindow[]> {
    return [...this.configured, ...(await this.apiWindows())];
  }

  private async apiWindows(): Promise<CompiledWindow[]> {
    const cache = this.apiCache;
    if (cache && Date.now() - cache.at < this.ttlMs) return cache.windows;
    // Callers that arrive during a read share it: a burst of alerts makes one HGETALL.
    if (!this.apiLoad) {
      const load = this.loadApiWindows().finally(() => {
        if (this.apiLoad === load) this.apiLoad = undefined;
      });
      this.apiLoad = load;
    }
    return this.apiLoad;
  }

  /** Forgets what was read: the next question reads Redis. */
  private invalidate(): void {
    this.generation++;
    this.apiCache = undefined;
    this.apiLoad = undefined;
  }

  private async loadApiWindows(): Promise<CompiledWindow[]> {
    const at = Date.now();
    const generation = this.generation;
    const stored = await this.redis.hgetall(this.key);
    const compiled = new Map<string, CompiledWindow>();
    for (const json of Object.values(stored)) {
      let window = this.compiledApi.get(json);
      if (!window) {
        try {
          window = compile(JSON.parse(json) as MaintenanceWindowSettings, 'api');
        } catch {
          // Not written by add() (edited by hand, an older shape): skipped rather than failing every alert.
          continue;
        }
      }
      compiled.set(json, window);
    }
    // Windows removed elsewhere leave the compiled cache with them.
    this.compiledApi = compiled;
    const windows = [...compiled.values()].sort((a, b) => a.settings.name.localeCompare(b.settings.name));
    if (generation === this.generation) this.apiCache = { at, windows };
    return windows;
  }

  /** The latest start at or before `at`, if any. */
  private latestStart(window: CompiledWindow, at: number): number | undefined {
    if (!window.cron) return window.start! <= at ? window.start : undefined;
    // prev() is strictly before the date it is reset to: one ms later takes a start at `at` itself.
    window.cron.reset(new Date(at + 1));
    return step(window.cron, 'prev');
  }

  /** Starts in (after, until], at most maxOccurrencesPerWindow of them. */
  private startsBetween(window: CompiledWindow, after: number, until: number): number[] {
    if (!window.cron) return window.start! > after && window.start! <= until ? [window.start!] : [];
    const starts: number[] = [];
    window.cron.reset(new Date(after));
    while (starts.length < this.maxOccurrences) {
      const start = step(window.cron, 'next');
      if (start === undefined || start > until) break;
      starts.push(start);
    }
    return starts;
  }

  private occurrence(window: CompiledWindow, start: number): ActiveMaintenance {
    return {
      name: window.settings.name,
      ...(window.settings.reason === undefined ? {} : { reason: window.settings.reason }),
      start,
      end: start + window.length,
      scope: window.scope,
      source: window.source,
    };
  }
}
