import { randomUUID } from 'node:crypto';
import { RedisKeyspace } from '../redis/redis-keyspace.ts';
import { withRedisLock } from '../redis/redis-lock.ts';
import type { RedisStep } from './redis-step.ts';
import type { StateChange } from './state-store.ts';

export interface Incident {
  id: string;
  checkId: string;
  start: number;
  end?: number;
  /** Every location that was DOWN during the incident. */
  locations: string[];
  /** Locations DOWN right now (empty once it ended). */
  downNow: string[];
  firstError?: string;
  /** Verdict when it started, updated as locations join. */
  verdict?: string;
  /**
   * The slot of the last change still waits for other locations' runs: the verdict is set
   * once they are in (settleVerdict), not guessed from a half-reported slot.
   */
  verdictPending?: boolean;
}

/**
 * What a state change did to its check's incident: `opened` (the first location went
 * DOWN), `updated` (another location joined or recovered, the incident goes on) or
 * `ended` (the last location came back). Reported so the caller can alert once per
 * incident, not once per location: only one caller ever sees an incident open or end,
 * since every change is applied under the check's lock.
 */
export interface IncidentTransition {
  kind: 'opened' | 'updated' | 'ended';
  incident: Incident;
  change: StateChange;
}

/**
 * An incident spans from the first location going DOWN to the last one coming back.
 * Kept per check, newest first, at most 200.
 */
export class IncidentStore extends RedisKeyspace {
  private openKey(checkId: string): string {
    return this.keyOf('incident-open', checkId);
  }

  private incidentKey(id: string): string {
    return this.keyOf('incident', id);
  }

  /**
   * Every change to a check's incidents reads the open one, changes it and writes it back:
   * one at a time per check, across processes, so two locations' runs recorded at once do
   * not drop each other's change.
   */
  private locked<T>(checkId: string, work: () => Promise<T>): Promise<T> {
    return withRedisLock(this.redis, this.keyOf('incident-lock', checkId), work);
  }

  /** `pending`: the verdict of the change's slot is not known yet (see settleVerdict). */
  onStateChange(
    change: StateChange,
    verdict?: string,
    options: { pending?: boolean } = {},
  ): Promise<IncidentTransition | undefined> {
    return this.locked(change.checkId, () => this.applyStateChange(change, verdict, options));
  }

  private async applyStateChange(
    change: StateChange,
    verdict: string | undefined,
    options: { pending?: boolean },
  ): Promise<IncidentTransition | undefined> {
    const openId = await this.redis.get(this.openKey(change.checkId));
    const open = openId ? await this.get(openId) : undefined;
    if (change.to === 'DOWN') {
      const incident: Incident = open ?? {
        id: randomUUID(),
        checkId: change.checkId,
        start: change.at,
        locations: [],
        downNow: [],
        firstError: change.error,
      };
      if (!incident.locations.includes(change.location)) incident.locations.push(change.location);
      if (!incident.downNow.includes(change.location)) incident.downNow.push(change.location);
      if (options.pending) incident.verdictPending = true;
      else if (verdict) {
        incident.verdict = verdict;
        delete incident.verdictPending;
      }
      await this.redis
        .multi()
        .set(this.incidentKey(incident.id), JSON.stringify(incident))
        .set(this.openKey(change.checkId), incident.id)
        .zadd(this.keyOf('incidents', change.checkId), incident.start, incident.id)
        .zremrangebyrank(this.keyOf('incidents', change.checkId), 0, -201)
        .exec();
      return { kind: open ? 'updated' : 'opened', incident, change };
    }
    if (change.from === 'DOWN' && open) {
      open.downNow = open.downNow.filter((location) => location !== change.location);
      const multi = this.redis.multi();
      if (open.downNow.length === 0) {
        open.end = change.at;
        multi.del(this.openKey(change.checkId));
      }
      await multi.set(this.incidentKey(open.id), JSON.stringify(open)).exec();
      return { kind: open.end === undefined ? 'updated' : 'ended', incident: open, change };
    }
    return undefined;
  }

  /** The open incident of a check whose verdict waits for the rest of its slot, if any. */
  async awaitingVerdict(checkId: string): Promise<Incident | undefined> {
    return this.awaitingVerdictOf(await this.redis.get(this.openKey(checkId)));
  }

  /**
   * The step that reads a check's open incident id, written with a run's record so the
   * common case (no incident) costs no command of its own; its reply goes to awaitingVerdictOf.
   */
  openIdStep(checkId: string): RedisStep {
    return {
      name: 'open-incident',
      lua: "return redis.call('GET', KEYS[1])",
      keys: [this.openKey(checkId)],
      args: [],
    };
  }

  /** The incident `openId` names, if it waits for the rest of its slot. */
  async awaitingVerdictOf(openId: unknown): Promise<Incident | undefined> {
    const open = typeof openId === 'string' && openId !== '' ? await this.get(openId) : undefined;
    return open?.verdictPending ? open : undefined;
  }

  /**
   * Sets the verdict of the open incident once its slot is complete: set once, right. Read
   * again here, right before the write, rather than passed in: the verdict is computed in
   * between, and another location's run may have changed the incident meanwhile.
   */
  settleVerdict(checkId: string, verdict: string): Promise<Incident | undefined> {
    return this.locked(checkId, async () => {
      const open = await this.awaitingVerdict(checkId);
      if (!open) return undefined;
      open.verdict = verdict;
      delete open.verdictPending;
      await this.redis.set(this.incidentKey(open.id), JSON.stringify(open));
      return open;
    });
  }

  async get(id: string): Promise<Incident | undefined> {
    const text = await this.redis.get(this.incidentKey(id));
    return text ? (JSON.parse(text) as Incident) : undefined;
  }

  /**
   * The check's incidents, newest start first; with `startedBefore`, only those that started
   * before it (a range's end: the page of a past range lists that range's incidents).
   */
  async list(checkId: string, limit = 20, options: { startedBefore?: number } = {}): Promise<Incident[]> {
    const key = this.keyOf('incidents', checkId);
    const ids =
      options.startedBefore === undefined
        ? await this.redis.zrevrange(key, 0, limit - 1)
        : await this.redis.zrevrangebyscore(key, `(${options.startedBefore}`, '-inf', 'LIMIT', 0, limit);
    const incidents = await Promise.all(ids.map((id) => this.get(id)));
    return incidents.filter((incident): incident is Incident => incident !== undefined);
  }
}
