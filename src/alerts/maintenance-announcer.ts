import type { MaintenanceWindowSettings } from '../config/maintenance-schema.ts';
import type { IncidentStore } from '../results/incident-store.ts';
import type { Logger } from '../util/logger.ts';
import type { AlertItem, MaintenanceOccurrence } from './alert-event.ts';
import type { AlertOutbox } from './alert-outbox.ts';
import type { AlertStatusStore } from './alert-status-store.ts';

/** A start or end of a maintenance window's occurrence, as the calendar reports it. */
export interface MaintenanceBoundary {
  kind: 'start' | 'end';
  at: number;
  occurrence: { name: string; reason?: string; start: number; end: number; scope: string };
  window: MaintenanceWindowSettings;
}

/** The part of the maintenance calendar the announcer asks. */
export interface MaintenanceBoundaries {
  boundaries(from: number, to: number): Promise<MaintenanceBoundary[]>;
}

export interface MaintenanceAnnouncerOptions {
  calendar: MaintenanceBoundaries;
  /** Whether an announcement was queued already. */
  statuses: Pick<AlertStatusStore, 'get'>;
  outbox: AlertOutbox;
  incidents: IncidentStore;
  logger?: Logger;
  /**
   * How often it looks for starts and ends.
   * @defaultValue 1000 (1 s)
   */
  everyMs?: number;
  /**
   * How far back it looks for boundaries not announced yet (after a restart, or a window
   * made through the API with its start already past).
   * @defaultValue 3600000 (1 h)
   */
  catchUpMs?: number;
}

/** The items a window covers, by its checks and tags and the locations it names. */
export function windowCovers(window: MaintenanceWindowSettings, item: AlertItem): boolean {
  if (window.checks && !window.checks.includes(item.id)) return false;
  if (window.tags && !item.tags.some((tag) => window.tags?.includes(tag))) return false;
  if (window.locations && !item.locations.some((location) => window.locations?.includes(location)))
    return false;
  return true;
}

/**
 * Announces each maintenance window's start and end to the lists of what it covers, once
 * (each announcement's status says it was queued; a second scheduler's would be refused by
 * its job id), catching up within `catchUpMs` on what a restart missed.
 * An end names the covered items still DOWN: their alerts were held, and they are not over.
 */
export function startMaintenanceAnnouncer(options: MaintenanceAnnouncerOptions): {
  stop: () => Promise<void>;
} {
  const { calendar, outbox, logger } = options;
  const catchUpMs = options.catchUpMs ?? 3_600_000;
  let running: Promise<void> | undefined;
  let stopped = false;

  const stillDown = async (window: MaintenanceWindowSettings): Promise<string[]> => {
    const names: string[] = [];
    for (const item of outbox.routing.allItems) {
      if (!windowCovers(window, item)) continue;
      const [incident] = await options.incidents.list(item.id, 1);
      if (incident && incident.end === undefined) names.push(item.name);
    }
    return names;
  };

  const tick = async () => {
    const now = Date.now();
    // The whole catch-up span every time, not from the last tick: a window made through the
    // API with a start already past is announced too. Each announcement is queued once (its
    // status says it was), so looking again costs a read, never a second mail.
    for (const boundary of await calendar.boundaries(now - catchUpMs, now)) {
      const kind = boundary.kind === 'start' ? 'maintenance-start' : 'maintenance-end';
      const deliveries = outbox.routing.deliveriesForWindow(
        (item) => windowCovers(boundary.window, item),
        boundary.window.locations,
      );
      const occurrence: MaintenanceOccurrence = { ...boundary.occurrence };
      const events = outbox.maintenanceEvents(occurrence, kind, deliveries);
      const pending = (await Promise.all(events.map((event) => options.statuses.get(event.key)))).some(
        (status) => status === undefined,
      );
      if (!pending) continue;
      if (boundary.kind === 'end') occurrence.stillDown = await stillDown(boundary.window);
      let queued = 0;
      for (const event of outbox.maintenanceEvents(occurrence, kind, deliveries)) {
        if (await outbox.queueOnce(event)) queued++;
      }
      if (queued > 0)
        logger?.info({ window: occurrence.name, kind: boundary.kind }, 'maintenance window announced');
    }
  };

  const timer = setInterval(() => {
    if (stopped) return;
    running ??= tick()
      .catch((error: Error) => logger?.debug({ err: error.message }, 'maintenance announcement failed'))
      .finally(() => {
        running = undefined;
      });
  }, options.everyMs ?? 1000);
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
