import type { LoadedConfig } from '../config/load-config.ts';
import type { Incident, IncidentStore } from '../results/incident-store.ts';
import type { StateStore } from '../results/state-store.ts';
import { type AlertEvent, alertKey, CHECK_ALERT_KINDS } from './alert-event.ts';
import type { AlertStatusStore } from './alert-status-store.ts';
import type { StormWindow } from './storm-window.ts';

/** How often a waiting alert looks again (verdict still pending, down alert not sent yet). */
const LOOK_AGAIN_MS = 250;

/** How long after its window closes a digest is sent: an alert folded in its last moment is in. */
const DIGEST_GRACE_MS = 1000;

/** The part of the maintenance calendar the gate asks. */
export interface MaintenanceCover {
  covering(
    target: { checkId?: string; tags?: string[]; locations?: string[] },
    at: number,
  ): Promise<{ name: string; end?: number } | undefined>;
}

/**
 * - `send` it (the event as it stands now: verdict and locations read again);
 * - `wait` and ask again (its verdict waits for the slot's other locations, or an up alert
 *   for its down alert);
 * - `settle` it without a send: `held` by a maintenance window, `skipped` with nothing to
 *   say, or `folded` into a storm digest (`digest`: that digest's own alert, to queue).
 * `followUps`: its reminders and escalations are still due (held and folded downs, too: a
 * window may end, a storm may pass, while the incident goes on).
 */
export type GateDecision =
  | { action: 'send'; event: AlertEvent }
  | { action: 'wait'; ms: number; why: string }
  | {
      action: 'settle';
      state: 'held' | 'skipped' | 'folded';
      reason: string;
      event: AlertEvent;
      followUps: boolean;
      digest?: AlertEvent;
    };

export interface AlertGateSources {
  incidents: IncidentStore;
  /**
   * The check's cross-location verdict as it is now (ResultsRecorder.verdict over the
   * locations it runs at): a control check that failed after the incident opened turns it
   * into `probe-host`, which the incident's own verdict, set when it opened, does not know.
   */
  judge: (checkId: string) => Promise<{ verdict: string; awaiting: string[] } | undefined>;
  states: StateStore;
  statuses: AlertStatusStore;
  config: LoadedConfig;
  storm: StormWindow;
  maintenance?: MaintenanceCover;
}

/**
 * Decides, right before an alert goes out, whether it still should: the one place that
 * knows the policy (verdict first, probe-host faults, maintenance, storms), so that every
 * channel and every retry follows the same rules. It reads the incident as it is now, not
 * as it was when the alert was queued.
 */
export class AlertGate {
  constructor(private readonly sources: AlertGateSources) {}

  async decide(queued: AlertEvent, now = Date.now()): Promise<GateDecision> {
    if (queued.kind === 'digest') return this.digest(queued);
    if (queued.kind === 'location-down') return this.holdOrSend(queued, { locations: queued.locations }, now);
    if (queued.kind === 'location-up') {
      // A list told the host was down is told it is back, maintenance or not.
      const down = alertKey(
        `${queued.incidentId}-${queued.location}`,
        'location-down',
        queued.list,
        queued.channel,
      );
      if ((await this.sources.statuses.get(down))?.state === 'sent') return { action: 'send', event: queued };
      return this.holdOrSend(queued, { locations: queued.locations }, now);
    }
    if (!CHECK_ALERT_KINDS.includes(queued.kind)) return { action: 'send', event: queued };
    const incident = queued.incidentId ? await this.sources.incidents.get(queued.incidentId) : undefined;
    let event = incident ? this.refreshed(queued, incident) : queued;
    switch (event.kind) {
      case 'down':
      case 'verdict': {
        const wait = incident && (await this.verdictWait(event, incident, now));
        if (wait) return wait;
        const judged = event.checkId ? await this.sources.judge(event.checkId) : undefined;
        if (judged && judged.awaiting.length > 0 && event.settleBy !== undefined && now < event.settleBy) {
          return { action: 'wait', ms: LOOK_AGAIN_MS, why: 'its slot waits for other locations' };
        }
        // A verdict of "ok" means the incident is over or about to be: the up alert says so.
        if (judged && judged.verdict !== 'ok') event = { ...event, verdict: judged.verdict };
        if (event.verdict === 'probe-host') {
          return this.skip(event, 'the probe host is at fault, not the target: the location alert says so');
        }
        if (event.kind === 'verdict') {
          if (incident?.end !== undefined) return this.skip(event, 'recovered: the up alert says so');
          const heard = await this.listHeardOfIncident(event, now);
          if (heard === 'waiting')
            return { action: 'wait', ms: 1000, why: 'its down alert is not delivered yet' };
          if (heard === 'no') {
            // Its down was skipped (the probe host was blamed), held or never delivered, and
            // the incident goes on with a verdict that blames the target: this is its down now.
            event = { ...event, kind: 'down' };
          } else if ((await this.sources.statuses.toldVerdict(event)) === event.verdict) {
            return this.skip(event, `the verdict is still ${event.verdict ?? 'not known'}`);
          }
        }
        break;
      }
      case 'up': {
        const heard = await this.listHeardOfIncident(event, now);
        if (heard === 'waiting')
          return { action: 'wait', ms: 1000, why: 'its down alert is not delivered yet' };
        if (heard === 'no') return this.skip(event, 'no alert of this incident went to this list');
        // Told it was down, it is told it is back: a window that opened meanwhile holds nothing.
        return this.countInStorm(event);
      }
      case 'reminder':
      case 'escalation':
        if (incident?.end !== undefined) return this.skip(event, 'recovered before it was due');
        break;
    }
    const decision = await this.holdOrSend(
      event,
      { checkId: event.checkId, tags: event.tags, locations: event.locations },
      event.kind === 'down' || event.kind === 'verdict' ? event.at : now,
    );
    if (decision.action !== 'send') return decision;
    return this.countInStorm(event);
  }

  /** The event with its incident's verdict and locations as they are now. */
  private refreshed(event: AlertEvent, incident: Incident): AlertEvent {
    if (event.kind === 'up') return event;
    return {
      ...event,
      verdict: incident.verdict,
      locations: incident.downNow.length > 0 ? [...incident.downNow] : event.locations,
    };
  }

  /**
   * A down alert waits (until `settleBy`) for the verdict of its slot and for the control
   * checks of the locations it is DOWN at to have run since it started: a probe host that
   * lost its network fails its checks and its control check in the same slot, and the mail
   * must blame the host, not the target.
   */
  private async verdictWait(
    event: AlertEvent,
    incident: Incident,
    now: number,
  ): Promise<GateDecision | undefined> {
    if (event.settleBy === undefined || now >= event.settleBy) return undefined;
    if (incident.verdictPending)
      return { action: 'wait', ms: LOOK_AGAIN_MS, why: 'its slot waits for other locations' };
    const settings = this.sources.config.settings.locations;
    for (const location of incident.downNow) {
      const control = settings[location]?.controlCheck;
      if (!control || control === incident.checkId) continue;
      const state = await this.sources.states.get(control, location);
      if (state.state === 'DOWN') continue;
      // Not run since the check failed (a run at the same instant says nothing of after it),
      // or failing but not yet DOWN (its own downAfter): the
      // host may be the one at fault, which the next runs will show.
      if ((state.lastRunAt ?? 0) <= incident.start || state.consecutiveFailures > 0) {
        return { action: 'wait', ms: LOOK_AGAIN_MS, why: `the control check of ${location} is not settled` };
      }
    }
    return undefined;
  }

  /**
   * Did this list hear of the incident (any of its alerts sent or folded to it)? `waiting`
   * while its down is still on its way (for at most a day: a down stuck longer is not waited for).
   */
  private async listHeardOfIncident(event: AlertEvent, now: number): Promise<'yes' | 'no' | 'waiting'> {
    if (await this.sources.statuses.heardOf(event)) return 'yes';
    const down = await this.sources.statuses.get(
      alertKey(event.incidentId ?? '', 'down', event.list, event.channel),
    );
    if (down && (down.state === 'queued' || down.state === 'retrying') && now - down.queuedAt < 86_400_000) {
      return 'waiting';
    }
    return 'no';
  }

  /**
   * Held by a maintenance window that covers it. Reminders and escalations are not dropped
   * but wait for the window's end and are judged again then: an incident that outlives the
   * window is still reminded of and escalated.
   */
  private async holdOrSend(
    event: AlertEvent,
    target: { checkId?: string; tags?: string[]; locations?: string[] },
    at: number,
  ): Promise<GateDecision> {
    const window = await this.sources.maintenance?.covering(target, at);
    if (!window) return { action: 'send', event };
    if ((event.kind === 'reminder' || event.kind === 'escalation') && window.end !== undefined) {
      return {
        action: 'wait',
        ms: Math.max(window.end - Date.now(), 0) + 1000,
        why: `maintenance ${window.name}`,
      };
    }
    return {
      action: 'settle',
      state: 'held',
      reason: `maintenance ${window.name}`,
      event,
      followUps: event.kind === 'down',
    };
  }

  /**
   * Counts the alert in its list's storm window (each alert once, whatever its attempts) and
   * folds it into the window's digest past the threshold. The digest goes a second after the
   * window closes: the window is judged by Redis's clock, so nothing is folded after it is read.
   */
  private async countInStorm(event: AlertEvent): Promise<GateDecision> {
    const { storm } = this.sources;
    const outcome = await storm.count(event);
    if (!outcome.folded) return { action: 'send', event };
    const digestKey = alertKey(`storm-${outcome.windowStart}`, 'digest', event.list, event.channel);
    const digest: AlertEvent = {
      key: digestKey,
      kind: 'digest',
      list: event.list,
      channel: event.channel,
      language: event.language,
      locations: [],
      at: outcome.windowStart + storm.window + DIGEST_GRACE_MS,
      start: outcome.windowStart,
    };
    return {
      action: 'settle',
      state: 'folded',
      reason: digestKey,
      event,
      followUps: event.kind === 'down' || event.kind === 'reminder',
      digest,
    };
  }

  private async digest(event: AlertEvent): Promise<GateDecision> {
    const entries = await this.sources.storm.folded(event.list, event.channel, event.start ?? event.at);
    if (entries.length === 0) return this.skip(event, 'nothing was folded into it');
    return { action: 'send', event: { ...event, digest: entries } };
  }

  private skip(event: AlertEvent, reason: string): GateDecision {
    return { action: 'settle', state: 'skipped', reason, event, followUps: false };
  }
}
