import type { CheckState, CheckStateName } from '../results/state-store.ts';
import type { LocationSide, Verdict, VerdictName } from '../results/verdict.ts';
import { type MapItem, targetOf } from './map-target.ts';

/** A vantage point: where runs start. */
export interface MapLocationNode {
  type: 'location';
  id: string;
  side: LocationSide;
  description?: string;
  liveWorkers: number;
  /** At least one worker beat recently; a dead location's edges are not its target's fault. */
  live: boolean;
  /** The location's control check and its state there: DOWN means this host is at fault. */
  control?: { checkId: string; state: CheckStateName };
}

/** The line between the outside locations and the data centre: outside → line → service. */
export interface MapLineNode {
  type: 'line';
  id: 'line';
  /**
   * DOWN when some target's verdict is `outside-path` and no path from outside works (none UP
   * or DEGRADED); UP once an outside edge reports otherwise; UNKNOWN until one does.
   */
  state: CheckStateName;
  /** The targets failing from outside only (verdict `outside-path`): on the line when it is DOWN, beyond it otherwise. */
  brokenFor: string[];
}

/** One service the checks talk to (`host[:port]`, or a journey's id when its host is unknown). */
export interface MapTargetNode {
  type: 'target';
  id: string;
  /** The checks' names, joined: what people call this service. */
  name: string;
  checks: Array<{ id: string; name: string; kind: string }>;
  /** Worst state of its edges. */
  state: CheckStateName;
  /** Its checks' verdicts taken together (see combineVerdicts). */
  verdict: VerdictName;
  summary: string;
  /** The checks whose verdict is not `ok`, each with its own. */
  verdicts: Array<{ checkId: string; verdict: VerdictName; summary: string }>;
}

export type MapNode = MapLocationNode | MapLineNode | MapTargetNode;

export interface MapEdgeCheck {
  id: string;
  name: string;
  state: CheckStateName;
  since?: number;
  flapping: boolean;
  lastError?: string;
}

/** The path from one location to one target, with every check that takes it. */
export interface MapEdge {
  /** `<location>~<target>`, as the checks page takes it in `?path=`. */
  id: string;
  from: string;
  to: string;
  /** `line` for an outside location: the path crosses the line. */
  via?: 'line';
  /** Worst of its checks' states: DOWN > DEGRADED > UNKNOWN > UP. */
  state: CheckStateName;
  checks: MapEdgeCheck[];
  /** Its checks that are DOWN or DEGRADED, worst first. */
  failing: MapEdgeCheck[];
  /** Where clicking the path leads: the checks on it. */
  href: string;
}

export interface MapGraph {
  generatedAt: number;
  nodes: MapNode[];
  edges: MapEdge[];
}

export interface MapLocationInput {
  id: string;
  side: LocationSide;
  description?: string;
  liveWorkers: number;
  controlCheck?: string;
  controlState?: CheckStateName;
}

export interface MapGraphInput {
  items: MapItem[];
  locations: MapLocationInput[];
  /** Each item's state per location it runs at. */
  states: ReadonlyMap<string, Record<string, CheckState | undefined>>;
  verdicts: ReadonlyMap<string, Verdict>;
  now: number;
}

const STATE_RANK: Record<CheckStateName, number> = { UP: 0, UNKNOWN: 1, DEGRADED: 2, DOWN: 3 };

/** DOWN > DEGRADED > UNKNOWN > UP: what a path shows when its checks disagree. */
export function worstState(states: Iterable<CheckStateName>): CheckStateName {
  let worst: CheckStateName | undefined;
  for (const state of states) if (!worst || STATE_RANK[state] > STATE_RANK[worst]) worst = state;
  return worst ?? 'UNKNOWN';
}

export function stateRank(state: CheckStateName): number {
  return STATE_RANK[state];
}

const VERDICT_RANK: Record<VerdictName, number> = {
  'no-data': 0,
  ok: 1,
  'probe-host': 2,
  'inside-path': 3,
  'outside-path': 3,
  partial: 4,
  service: 5,
};

/**
 * One verdict for a target from its checks' verdicts: the gravest wins (service, then a
 * path, then a probe host at fault); checks blaming different paths make it `partial`.
 * A check with no data does not hide the others' `ok`.
 */
export function combineVerdicts(verdicts: Verdict[]): { verdict: VerdictName; summary: string } {
  if (verdicts.length === 0) return { verdict: 'no-data', summary: 'no check has reported yet' };
  const worst = verdicts.reduce((a, b) => (VERDICT_RANK[b.verdict] > VERDICT_RANK[a.verdict] ? b : a));
  const paths = new Set(
    verdicts.map((v) => v.verdict).filter((name) => name === 'inside-path' || name === 'outside-path'),
  );
  if (paths.size > 1 && worst.verdict !== 'service') {
    return { verdict: 'partial', summary: 'some checks fail only from inside, others only from outside' };
  }
  return { verdict: worst.verdict, summary: worst.summary };
}

function edgeCheck(item: MapItem, state: CheckState | undefined): MapEdgeCheck {
  return {
    id: item.id,
    name: item.name,
    state: state?.state ?? 'UNKNOWN',
    ...(state?.since ? { since: state.since } : {}),
    flapping: state?.flapping ?? false,
    ...(state?.lastError && state.state !== 'UP' ? { lastError: state.lastError } : {}),
  };
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The map as data, from what was read: locations (inside first, then outside, each by id),
 * the line when there is an outside location, targets by id, and one edge per location ×
 * target that some check takes. Sorted throughout, so the same state draws the same picture.
 */
export function buildMapGraph(input: MapGraphInput): MapGraph {
  const locations = [...input.locations].sort(
    (a, b) => (a.side === b.side ? 0 : a.side === 'inside' ? -1 : 1) || byId(a, b),
  );
  const sideOf = new Map(locations.map((location) => [location.id, location.side]));
  const targets = new Map<string, { items: MapItem[] }>();
  for (const item of input.items) {
    const target = targetOf(item).id;
    const entry = targets.get(target) ?? { items: [] };
    entry.items.push(item);
    targets.set(target, entry);
  }
  const edges: MapEdge[] = [];
  const targetNodes: MapTargetNode[] = [];
  for (const [target, { items }] of [...targets].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    items.sort(byId);
    const targetEdges: MapEdge[] = [];
    for (const location of locations) {
      const checks = items
        .filter((item) => item.locations.includes(location.id))
        .map((item) => edgeCheck(item, input.states.get(item.id)?.[location.id]));
      if (checks.length === 0) continue;
      const id = `${location.id}~${target}`;
      targetEdges.push({
        id,
        from: location.id,
        to: target,
        ...(location.side === 'outside' ? { via: 'line' as const } : {}),
        state: worstState(checks.map((check) => check.state)),
        checks,
        failing: checks
          .filter((check) => check.state === 'DOWN' || check.state === 'DEGRADED')
          .sort((a, b) => STATE_RANK[b.state] - STATE_RANK[a.state] || byId(a, b)),
        // The status page filtered to this path; `:` is fine in a query and keeps `host:port` readable.
        href: `/?path=${encodeURIComponent(id).replace(/%3A/g, ':')}`,
      });
    }
    edges.push(...targetEdges);
    const verdicts = items.flatMap((item) => {
      const verdict = input.verdicts.get(item.id);
      return verdict ? [{ checkId: item.id, verdict }] : [];
    });
    const combined = combineVerdicts(verdicts.map(({ verdict }) => verdict));
    targetNodes.push({
      type: 'target',
      id: target,
      name: items.map((item) => item.name).join(', '),
      checks: items.map((item) => ({ id: item.id, name: item.name, kind: item.kind })),
      state: worstState(targetEdges.map((edge) => edge.state)),
      ...combined,
      verdicts: verdicts
        .filter(({ verdict }) => verdict.verdict !== 'ok')
        .map(({ checkId, verdict }) => ({ checkId, verdict: verdict.verdict, summary: verdict.summary })),
    });
  }
  const nodes: MapNode[] = locations.map((location) => ({
    type: 'location',
    id: location.id,
    side: location.side,
    ...(location.description ? { description: location.description } : {}),
    liveWorkers: location.liveWorkers,
    live: location.liveWorkers > 0,
    ...(location.controlCheck
      ? { control: { checkId: location.controlCheck, state: location.controlState ?? 'UNKNOWN' } }
      : {}),
  }));
  if (locations.some((location) => location.side === 'outside')) {
    const brokenFor = targetNodes.filter((node) => node.verdict === 'outside-path').map((node) => node.id);
    const outsideStates = edges.filter((edge) => sideOf.get(edge.from) === 'outside').map((e) => e.state);
    const reported = outsideStates.some((state) => state !== 'UNKNOWN');
    // A path that works from outside crosses the line too: then the line carries traffic, and
    // the fault of the paths failing from outside only lies beyond it, not on it.
    const carries = outsideStates.some((state) => state === 'UP' || state === 'DEGRADED');
    nodes.push({
      type: 'line',
      id: 'line',
      state: brokenFor.length > 0 && !carries ? 'DOWN' : reported ? 'UP' : 'UNKNOWN',
      brokenFor,
    });
  }
  nodes.push(...targetNodes);
  return { generatedAt: input.now, nodes, edges };
}
