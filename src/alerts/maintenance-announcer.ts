import type { Redis } from 'ioredis';
import type { MaintenanceWindowSettings } from '../config/maintenance-schema.ts';
import type { IncidentStore } from '../results/incident-store.ts';
import type { Logger } from '../util/logger.ts';
import type { AlertItem, MaintenanceOccurrence } from './alert-event.ts';
import type { AlertOutbox } from './alert-outbox.ts';

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
  redis: Redis;
  prefix: string;
  calendar: MaintenanceBoundaries;
  outbox: AlertOutbox;
  incidents: IncidentStore;
  logger?: Logger;
  /**
   * How often it looks for starts and ends.
   * @defaultValue 1000 (1 s)
   */
  everyMs?: number;
  /**
   * How far back it looks after a restart for boundaries it has not announced.
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
 * Announces each maintenance window's start and end to the lists of what it covers, once:
 * it remembers in Redis up to when it has announced, so a restart catches up on what it
 * missed (within `catchUpMs`) and a second scheduler queues the same alert ids (refused).
 * An end names the covered items still DOWN: their alerts were held, and they are not over.
 */
export function startMaintenanceAnnouncer(options: MaintenanceAnnouncerOptions): {
  stop: () => Promise<void>;
} {
  const { redis, calendar, outbox, logger } = options;
  const markKey = `${options.prefix}:maintenance-announced-until`;
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
    const marked = Number(await redis.get(markKey));
    const from = Number.isFinite(marked) && marked > 0 ? Math.max(marked, now - catchUpMs) : now - 1000;
    for (const boundary of await calendar.boundaries(from, now)) {
      const occurrence: MaintenanceOccurrence = { ...boundary.occurrence };
      if (boundary.kind === 'end') occurrence.stillDown = await stillDown(boundary.window);
      const deliveries = outbox.routing.deliveriesForWindow(
        (item) => windowCovers(boundary.window, item),
        boundary.window.locations,
      );
      const kind = boundary.kind === 'start' ? 'maintenance-start' : 'maintenance-end';
      for (const event of outbox.maintenanceEvents(occurrence, kind, deliveries)) await outbox.queue(event);
      logger?.info({ window: occurrence.name, kind: boundary.kind }, 'maintenance window announced');
    }
    await redis.set(markKey, String(now), 'EX', 7 * 86_400);
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
