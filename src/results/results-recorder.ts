import type { Redis } from 'ioredis';
import type { RunResult } from '../checks/run-result.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import { IncidentStore } from './incident-store.ts';
import { ResultStore } from './result-store.ts';
import { RollupStore } from './rollup-store.ts';
import { type StateChange, type StatePolicy, StateStore } from './state-store.ts';
import { computeVerdict, sideOf, type Verdict } from './verdict.ts';
import { WorkerRegistry } from './worker-registry.ts';

export interface RecordOptions {
  /** The final attempt of a run: it counts toward state, rollups and incidents. */
  counted: boolean;
  policy: StatePolicy;
}

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

  constructor(
    redis: Redis,
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
  }

  async record(result: RunResult, options: RecordOptions): Promise<StateChange | undefined> {
    if (!options.counted) {
      await this.runs.save(result);
      return undefined;
    }
    // Issued together so they share round trips (and one write with auto-pipelining).
    const [, , change] = await Promise.all([
      this.runs.save(result),
      this.rollups.record(result),
      this.states.apply(result, options.policy),
    ]);
    if (change) {
      const verdict = await this.verdict(result.checkId, undefined);
      await this.incidents.onStateChange(change, verdict.verdict);
    }
    return change;
  }

  /** The verdict across the locations a check runs at (all declared ones when unknown). */
  async verdict(checkId: string, checkLocations: string[] | undefined): Promise<Verdict> {
    const locations = checkLocations ?? this.locationsOf(checkId);
    const settings = this.config.settings.locations;
    const states = await this.states.forCheck(checkId, locations);
    const described = await Promise.all(
      locations.map(async (id) => {
        const control = settings[id]?.controlCheck;
        const controlDown =
          control && control !== checkId ? (await this.states.get(control, id)).state === 'DOWN' : false;
        return {
          id,
          side: sideOf(id, settings[id]?.side),
          live: (await this.workers.liveWorkers(id)) > 0,
          controlDown,
        };
      }),
    );
    return computeVerdict(described, states);
  }

  private locationsOf(checkId: string): string[] {
    return this.config.checks.find((check) => check.id === checkId)?.locations ?? this.config.locations;
  }
}
