import {
  type AlertingSettings,
  type AlertLanguage,
  type AlertRoute,
  DEFAULT_LIST,
  type RecipientList,
} from '../config/alerting-schema.ts';
import type { AlertChannelName, AlertItem } from './alert-event.ts';

/** One recipient list through one channel, with what its mails look like. */
export interface AlertDelivery {
  list: string;
  channel: AlertChannelName;
  language: AlertLanguage;
  /** The item's `alertSubject`, else the route's `subject`, else `alerting.subject`. */
  subjectTemplate: string;
}

/** What an alert is about, as routes and maintenance windows select it. */
export interface AlertTarget {
  checkId?: string;
  tags?: string[];
  /** The locations it is about (DOWN ones); a route naming locations needs one of them. */
  locations?: string[];
}

export interface Escalation {
  afterMs: number;
  lists: string[];
}

function routeMatches(route: AlertRoute, target: AlertTarget): boolean {
  if (route.checks && !(target.checkId && route.checks.includes(target.checkId))) return false;
  if (route.tags && !(target.tags ?? []).some((tag) => route.tags?.includes(tag))) return false;
  if (route.locations && !(target.locations ?? []).some((location) => route.locations?.includes(location)))
    return false;
  return true;
}

/**
 * Who hears about what, compiled once from `alerting`: routes, lists and their channels. An
 * alert goes to the lists of every matching route, or to `default` (`alerting.to`) when
 * none matches; each list through mail, webhook or both.
 */
export class AlertRouting {
  private readonly lists: Map<string, RecipientList>;

  constructor(
    private readonly alerting: AlertingSettings,
    private readonly items: Map<string, AlertItem> = new Map(),
  ) {
    this.lists = new Map(Object.entries(alerting.lists));
    if (alerting.to) this.lists.set(DEFAULT_LIST, { to: alerting.to, language: alerting.language });
  }

  item(checkId: string | undefined): AlertItem | undefined {
    return checkId === undefined ? undefined : this.items.get(checkId);
  }

  get allItems(): AlertItem[] {
    return [...this.items.values()];
  }

  /** The routes an alert about `target` takes (none: the default route). */
  private routesFor(target: AlertTarget): AlertRoute[] {
    return this.alerting.routes.filter((route) => routeMatches(route, target));
  }

  /** Every channel of one list, with its language and the given subject. */
  channelsOf(list: string, subjectTemplate = this.alerting.subject): AlertDelivery[] {
    const settings = this.lists.get(list);
    if (!settings) return [];
    const channels: AlertChannelName[] = [
      ...(settings.to ? (['email'] as const) : []),
      ...(settings.webhook ? (['webhook'] as const) : []),
    ];
    return channels.map((channel) => ({ list, channel, language: settings.language, subjectTemplate }));
  }

  /**
   * The deliveries of an alert about `target`. `degradedOnly`: only routes that asked for
   * DEGRADED alerts (the default route never does).
   */
  deliveriesFor(target: AlertTarget, options: { degradedOnly?: boolean } = {}): AlertDelivery[] {
    const item = this.item(target.checkId);
    const matched = this.routesFor(target);
    const routes = options.degradedOnly ? matched.filter((route) => route.degraded) : matched;
    const chosen: Array<{ list: string; subject: string }> =
      matched.length === 0
        ? options.degradedOnly
          ? []
          : [{ list: DEFAULT_LIST, subject: this.alerting.subject }]
        : routes.flatMap((route) =>
            route.notify.map((list) => ({ list, subject: route.subject ?? this.alerting.subject })),
          );
    const seen = new Set<string>();
    const deliveries: AlertDelivery[] = [];
    for (const { list, subject } of chosen) {
      if (seen.has(list)) continue;
      seen.add(list);
      deliveries.push(...this.channelsOf(list, item?.alertSubject ?? subject));
    }
    return deliveries;
  }

  /** The escalations of an incident about `target`: each route's own, else `alerting.escalation`. */
  escalationsFor(target: AlertTarget): Escalation[] {
    const matched = this.routesFor(target);
    const found =
      matched.length === 0 ? [] : matched.flatMap((route) => (route.escalate ? [route.escalate] : []));
    const all = found.length > 0 ? found : this.alerting.escalation ? [this.alerting.escalation] : [];
    return all.map((escalation) => ({ afterMs: escalation.after, lists: escalation.notify }));
  }

  /** Reminder period and count. */
  get reminders(): { everyMs: number; max: number } {
    return { everyMs: this.alerting.reminders.every, max: this.alerting.reminders.max };
  }

  get storm(): { windowMs: number; threshold: number } {
    return { windowMs: this.alerting.storm.window, threshold: this.alerting.storm.threshold };
  }

  /**
   * The lists told about a maintenance window: those of every item it covers (each with the
   * window's locations), or `default` when it covers no item alerts are routed for.
   */
  deliveriesForWindow(covers: (item: AlertItem) => boolean, locations?: string[]): AlertDelivery[] {
    const seen = new Set<string>();
    const deliveries: AlertDelivery[] = [];
    for (const item of this.items.values()) {
      if (!covers(item)) continue;
      for (const delivery of this.deliveriesFor({
        checkId: item.id,
        tags: item.tags,
        locations: locations ?? item.locations,
      })) {
        const id = `${delivery.list}.${delivery.channel}`;
        if (seen.has(id)) continue;
        seen.add(id);
        deliveries.push({ ...delivery, subjectTemplate: this.alerting.subject });
      }
    }
    return deliveries.length > 0 ? deliveries : this.channelsOf(DEFAULT_LIST);
  }
}
