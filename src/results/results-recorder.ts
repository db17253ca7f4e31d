import type { Redis } from 'ioredis';
import type { AlertOutbox } from '../alerts/alert-outbox.ts';
import { AlertStatusStore } from '../alerts/alert-status-store.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import { IncidentStore, type IncidentTransition } from './incident-store.ts';
import { MissedSlotStore } from './missed-slot-store.ts';
import { type RedisStep, runSteps } from './redis-step.ts';
import { ResultStore } from './result-store.ts';
import { RollupStore } from './rollup-store.ts';
import type { RunResult } from './run-result.ts';
import { settledSlotStates } from './settled-slot-states.ts';
import { type CheckState, changeOf, type StateChange, type StatePolicy, StateStore } from './state-store.ts';
import { computeVerdict, sideOf, type Verdict, type VerdictLocation } from './verdict.ts';
import { WorkerRegistry } from './worker-registry.ts';

export interface RecordOptions {
  /** The final attempt of a run: it counts toward state, rollups and incidents. */
  counted: boolean;
  policy: StatePolicy;
  /** Every location the check or journey runs at, for the verdict when its state changes. */
  locations: string[];
  /** The schedule slot the run fills (scheduler jobs only), to find the slots before it that had no run. */
  slot?: { at: number; interval: number };
}

/** What recording one run did: the state change it made, and what that did to the incident. */
export interface RecordedRun {
  change?: StateChange;
  incident?: IncidentTransition;
}

/** A location as a verdict sees it; `controlCheck` lets a check not be judged by itself. */
export type LocationView = VerdictLocation & { controlCheck?: string };

/**
 * Everything that happens to a finished run, in one place: stored (every attempt, with
 * its evidence), and when it counts, rolled up, applied to the state machine, and turned
 * into incident updates when the state changes.
 */
export class ResultsRecorder {
  readonly runs: ResultStore;
  readonly states: StateStore;
  readonly rollups: RollupStore;
  readonly incidents: IncidentStore;
  readonly workers: WorkerRegistry;
  readonly missedSlots: MissedSlotStore;
  /** Each alert's delivery status (queued, retrying, sent, failed), for the API. */
  readonly alerts: AlertStatusStore;
  /**
   * Where the worker that recorded a run sends the incident transition to be alerted (the
   * `alerts` queue); set by the stack when `alerting` is configured. The recorder never
   * calls it itself: runWithConfirmation does, with what recordRun() reported.
   */
  alertOutbox?: AlertOutbox;

  constructor(
    private readonly redis: Redis,
    private readonly config: LoadedConfig,
    storeOptions: { runsPerSeries?: number; runTtlSeconds?: number } = {},
  ) {
    const prefix = config.settings.redis.prefix;
    this.runs = new ResultStore(redis, {
      prefix,
      runsPerSeries: config.settings.runsPerSeries,
      runTtlSeconds: Math.round(config.settings.keepRuns / 1000),
      ...storeOptions,
    });
    this.states = new StateStore(redis, prefix);
    this.rollups = new RollupStore(redis, prefix, config.settings.rollupDays);
    this.incidents = new IncidentStore(redis, prefix);
    this.workers = new WorkerRegistry(redis, prefix);
    this.missedSlots = new MissedSlotStore(redis, prefix);
    this.alerts = new AlertStatusStore(redis, prefix);
  }

  /** Records a run (see recordRun) and returns the state change it made, if any. */
  async record(result: RunResult, options: RecordOptions): Promise<StateChange | undefined> {
    return (await this.recordRun(result, options)).change;
  }

  /** Records a run; reports the state change and, with it, the incident's transition (to alert on). */
  async recordRun(result: RunResult, options: RecordOptions): Promise<RecordedRun> {
    // One script: the run's record, its slot, its counts and its state are written in one
    // atomic step, record first, so no reader sees a slot accounted for without its run (a
    // run lost on the way leaves the slot missed, visible, never filled by nothing), and the
    // worker pays one command per run. The open incident is read in the same script: a run
    // that changes no state but completes a slot settles the verdict of the incident waiting
    // for it.
    const steps: RedisStep[] = [this.runs.storeStep(result)];
    if (options.slot) {
      steps.push(
        this.missedSlots.slotStep(result.checkId, result.location, options.slot.at, options.slot.interval),
      );
    }
    if (!options.counted) {
      await runSteps(this.redis, steps);
      return {};
    }
    steps.push(
      this.rollups.countStep(result),
      this.states.applyStep(result, options.policy),
      this.incidents.openIdStep(result.checkId),
    );
    const replies = await runSteps(this.redis, steps);
    const change = changeOf(result, replies.at(-2));
    if (change) {
      // A change in a slot not every location has reported yet leaves the incident's
      // verdict pending rather than set from half a slot.
      const verdict = await this.verdict(result.checkId, options.locations);
      const incident = await this.incidents.onStateChange(change, verdict.verdict, {
        pending: verdict.awaiting.length > 0,
      });
      return { change, incident };
    }
    if (await this.incidents.awaitingVerdictOf(replies.at(-1))) {
      // The run that completes the slot sets the verdict of the incident it opened or widened.
      const verdict = await this.verdict(result.checkId, options.locations);
      if (verdict.awaiting.length === 0) await this.incidents.settleVerdict(result.checkId, verdict.verdict);
    }
    return {};
  }

  /**
   * Each location's side, liveness and control-check state. They do not depend on the
   * check, so a page listing many checks reads them once and passes them to verdict().
   */
  async describeLocations(locations: string[] = this.config.locations): Promise<LocationView[]> {
    const settings = this.config.settings.locations;
    return Promise.all(
      locations.map(async (id) => {
        const controlCheck = settings[id]?.controlCheck;
        const [liveWorkers, control] = await Promise.all([
          this.workers.liveWorkers(id),
          controlCheck ? this.states.get(controlCheck, id) : undefined,
        ]);
        return {
          id,
          side: sideOf(id, settings[id]?.side),
          live: liveWorkers > 0,
          controlDown: control?.state === 'DOWN',
          controlCheck,
        };
      }),
    );
  }

  /**
   * The verdict across the locations a check or journey runs at; pass what was already read.
   * Judged by schedule slot: a change in the newest slot waits (at most one interval) for the
   * other locations' runs of that slot, so the first verdict of a fault is already the right
   * one. The slots and their interval come from the states (carried by the runs), so checks
   * and journeys are judged alike, with no lookup in the config.
   */
  async verdict(
    checkId: string,
    locations: string[],
    known: { states?: Record<string, CheckState>; views?: LocationView[]; now?: number } = {},
  ): Promise<Verdict> {
    const [states, views] = await Promise.all([
      known.states ?? this.states.forCheck(checkId, locations),
      known.views ?? this.describeLocations(locations),
    ]);
    const described = views
      .filter((view) => locations.includes(view.id))
      // A control check is never blamed on its own location's fault.
      .map((view) => ({ ...view, controlDown: view.controlDown && view.controlCheck !== checkId }));
    const live = described.filter((view) => view.live).map((view) => view.id);
    const slot = settledSlotStates(states, live, known.now ?? Date.now());
    return computeVerdict(described, slot.states, slot.awaiting);
  }
}
