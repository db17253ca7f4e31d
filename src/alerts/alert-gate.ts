import type { LoadedConfig } from '../config/load-config.ts';
import type { Incident, IncidentStore } from '../results/incident-store.ts';
import type { StateStore } from '../results/state-store.ts';
import { type AlertEvent, alertKey, CHECK_ALERT_KINDS } from './alert-event.ts';
import type { AlertStatusStore } from './alert-status-store.ts';
import type { StormWindow } from './storm-window.ts';

/** How often a waiting alert looks again (verdict still pending, down alert not sent yet). */
const LOOK_AGAIN_MS = 250;

/** The part of the maintenance calendar the gate asks. */
export interface MaintenanceCover {
  covering(
    target: { checkId?: string; tags?: string[]; locations?: string[] },
    at: number,
  ): Promise<{ name: string } | undefined>;
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
    if (!CHECK_ALERT_KINDS.includes(queued.kind)) {
      if (queued.kind === 'location-down' || queued.kind === 'location-up') {
        return this.holdOrSend(queued, { locations: queued.locations }, queued.at, false);
      }
      return { action: 'send', event: queued };
    }
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
          return this.skip(
            event,
            'the probe host is at fault, not the target: the location alert says so',
            false,
          );
        }
        if (event.kind === 'verdict') {
          if (incident?.end !== undefined) return this.skip(event, 'recovered: the up alert says so', false);
          const verdictWait = await this.verdictFollowUp(event);
          if (verdictWait) return verdictWait;
        }
        break;
      }
      case 'up': {
        const heard = await this.listHeardOfIncident(event);
        if (heard === 'waiting')
          return { action: 'wait', ms: 1000, why: 'its down alert is not delivered yet' };
        if (heard === 'no') return this.skip(event, 'no down alert went to this list', false);
        break;
      }
      case 'reminder':
      case 'escalation':
        if (incident?.end !== undefined) return this.skip(event, 'recovered before it was due', false);
        break;
    }
    const at = event.kind === 'down' || event.kind === 'up' ? event.at : now;
    const target = { checkId: event.checkId, tags: event.tags, locations: event.locations };
    const decision = await this.holdOrSend(
      event,
      target,
      at,
      event.kind === 'down' || event.kind === 'reminder',
    );
    // A storm is many changes at once: reminders and escalations of one incident are not changes.
    if (decision.action !== 'send' || event.kind === 'reminder' || event.kind === 'escalation')
      return decision;
    return this.countInStorm(event, now);
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
      if (state.state !== 'DOWN' && (state.lastRunAt ?? 0) < incident.start) {
        return {
          action: 'wait',
          ms: LOOK_AGAIN_MS,
          why: `the control check of ${location} has not run since`,
        };
      }
    }
    return undefined;
  }

  /** A verdict follow-up goes only when the verdict differs from the one this list was told. */
  private async verdictFollowUp(event: AlertEvent): Promise<GateDecision | undefined> {
    const heard = await this.listHeardOfIncident(event);
    if (heard === 'waiting') return { action: 'wait', ms: 1000, why: 'its down alert is not delivered yet' };
    if (heard === 'no') return this.skip(event, 'no down alert went to this list', false);
    const told = await this.sources.statuses.toldVerdict(event);
    if (told === event.verdict || event.verdict === undefined) {
      return this.skip(event, `the verdict is still ${event.verdict ?? 'not known'}`, false);
    }
    return undefined;
  }

  /** Did this list hear of the incident (its down or escalation sent or folded)? */
  private async listHeardOfIncident(event: AlertEvent): Promise<'yes' | 'no' | 'waiting'> {
    const incident = event.incidentId ?? '';
    const keys = [
      alertKey(incident, 'down', event.list, event.channel),
      alertKey(incident, 'escalation', event.list, event.channel),
    ];
    const statuses = await Promise.all(keys.map((key) => this.sources.statuses.get(key)));
    if (statuses.some((status) => status?.state === 'sent' || status?.state === 'folded')) return 'yes';
    const down = statuses[0];
    if (down && (down.state === 'queued' || down.state === 'retrying')) return 'waiting';
    return 'no';
  }

  private async holdOrSend(
    event: AlertEvent,
    target: { checkId?: string; tags?: string[]; locations?: string[] },
    at: number,
    followUps: boolean,
  ): Promise<GateDecision> {
    const window = await this.sources.maintenance?.covering(target, at);
    if (window) {
      return { action: 'settle', state: 'held', reason: `maintenance ${window.name}`, event, followUps };
    }
    return { action: 'send', event };
  }

  private async countInStorm(event: AlertEvent, now: number): Promise<GateDecision> {
    const { storm } = this.sources;
    const outcome = await storm.count(event, now);
    if (!outcome.folded) return { action: 'send', event };
    const digestKey = alertKey(`storm-${outcome.windowStart}`, 'digest', event.list, event.channel);
    const digest: AlertEvent = {
      key: digestKey,
      kind: 'digest',
      list: event.list,
      channel: event.channel,
      language: event.language,
      locations: [],
      at: outcome.windowStart + storm.window,
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
    if (entries.length === 0) return this.skip(event, 'nothing was folded into it', false);
    return { action: 'send', event: { ...event, digest: entries } };
  }

  private skip(event: AlertEvent, reason: string, followUps: boolean): GateDecision {
    return { action: 'settle', state: 'skipped', reason, event, followUps };
  }
}
