import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load-config.ts';
import type { ResolvedJourney } from '../../src/journeys/load-journeys.ts';
import { buildMapGraph, combineVerdicts, type MapTargetNode, worstState } from '../../src/map/map-graph.ts';
import { targetOf } from '../../src/map/map-target.ts';
import { mapItemsOf } from '../../src/map/read-map-graph.ts';
import { renderMapSvg } from '../../src/map/render-map-svg.ts';
import type { CheckState, CheckStateName } from '../../src/results/state-store.ts';
import { computeVerdict, type Verdict } from '../../src/results/verdict.ts';

function state(name: CheckStateName, lastError?: string): CheckState {
  return {
    state: name,
    since: 1000,
    consecutiveFailures: 0,
    consecutivePasses: 0,
    flapping: false,
    ...(lastError ? { lastError } : {}),
  };
}

const config = await parseConfig(
  {
    locations: { inside: { description: 'DC' }, 'outside-tokyo': {}, edge: { side: 'outside' } },
    checks: [
      { id: 'web', name: 'Shop', kind: 'http', http: { url: 'https://Shop.test/health' } },
      { id: 'web-api', name: 'Shop API', kind: 'http', http: { url: 'https://shop.test:443/api' } },
      { id: 'web-8443', name: 'Admin', kind: 'http', http: { url: 'https://shop.test:8443/' } },
      { id: 'ssh', name: 'SSH', kind: 'tcp', tcp: { host: '10.0.0.5', port: 22 } },
      { id: 'ssh6', name: 'SSH v6', kind: 'tcp', tcp: { host: '::1', port: 22 } },
      { id: 'cert', name: 'Cert', kind: 'tls', tls: { host: 'shop.test' } },
      { id: 'resolver', name: 'DNS', kind: 'dns', dns: { server: '10.0.0.53', query: 'shop.test' } },
      { id: 'off', name: 'Off', kind: 'http', enabled: false, http: { url: 'http://off.test/' } },
    ],
  },
  '/tmp/map-graph.yaml',
);

test('targets are host[:port] from each kind’s own settings, without a per-kind branch', () => {
  const items = mapItemsOf(config, []);
  assert.deepEqual(
    Object.fromEntries(items.map((item) => [item.id, targetOf(item).id])),
    {
      web: 'shop.test',
      'web-api': 'shop.test',
      'web-8443': 'shop.test:8443',
      ssh: '10.0.0.5:22',
      ssh6: '[::1]:22',
      cert: 'shop.test:443',
      resolver: '10.0.0.53',
    },
    'https default port folds into the bare host; a disabled check draws no path',
  );
  const journey = {
    id: 'checkout',
    name: 'Checkout',
    kind: 'journey',
    locations: ['inside'],
    params: { user: 'alice', shopUrl: 'http://127.0.0.1:4601/start', other: 'http://else.test/' },
  } as unknown as ResolvedJourney;
  assert.equal(targetOf(mapItemsOf(config, [journey]).at(-1)!).id, '127.0.0.1:4601');
  const blind = { ...journey, id: 'blind', params: { user: 'alice' } } as unknown as ResolvedJourney;
  assert.deepEqual(targetOf(mapItemsOf(config, [blind]).at(-1)!), { id: 'blind', from: 'item' });
});

test('worst state orders DOWN > DEGRADED > UNKNOWN > UP', () => {
  assert.equal(worstState(['UP', 'UNKNOWN']), 'UNKNOWN');
  assert.equal(worstState(['UP', 'DEGRADED', 'UNKNOWN']), 'DEGRADED');
  assert.equal(worstState(['DEGRADED', 'DOWN', 'UP']), 'DOWN');
  assert.equal(worstState(['UP', 'UP']), 'UP');
  assert.equal(worstState([]), 'UNKNOWN');
});

test('a target’s verdict: the gravest of its checks, paths on both sides make it partial', () => {
  const v = (verdict: Verdict['verdict']): Verdict => ({
    verdict,
    summary: verdict,
    down: [],
    unavailable: [],
    probeHostFaults: [],
    awaiting: [],
  });
  assert.equal(combineVerdicts([v('ok'), v('outside-path'), v('no-data')]).verdict, 'outside-path');
  assert.equal(combineVerdicts([v('ok'), v('no-data')]).verdict, 'ok');
  assert.equal(combineVerdicts([v('inside-path'), v('outside-path')]).verdict, 'partial');
  assert.equal(combineVerdicts([v('service'), v('outside-path'), v('inside-path')]).verdict, 'service');
  assert.equal(combineVerdicts([]).verdict, 'no-data');
});

test('edges: one per location × target, worst state, failing checks listed, the line for outside', () => {
  const items = mapItemsOf(config, []);
  const locations = [
    { id: 'outside-tokyo', side: 'outside' as const, liveWorkers: 1 },
    { id: 'inside', side: 'inside' as const, liveWorkers: 2, description: 'DC' },
    {
      id: 'edge',
      side: 'outside' as const,
      liveWorkers: 0,
      controlCheck: 'ssh',
      controlState: 'UP' as const,
    },
  ];
  const states = new Map<string, Record<string, CheckState>>();
  for (const item of items) {
    states.set(item.id, { inside: state('UP'), 'outside-tokyo': state('UP'), edge: state('UNKNOWN') });
  }
  states.get('web-api')!['outside-tokyo'] = state('DOWN', 'connect to shop.test:443 timed out');
  states.get('web')!['outside-tokyo'] = state('DEGRADED');
  const views = locations.map((l) => ({
    id: l.id,
    side: l.side,
    live: l.liveWorkers > 0,
    controlDown: false,
  }));
  const verdicts = new Map(
    items.map((item) => [item.id, computeVerdict(views, states.get(item.id)!)] as const),
  );
  assert.equal(verdicts.get('web-api')!.verdict, 'outside-path', 'the setup is a broken outside path');
  const graph = buildMapGraph({ items, locations, states, verdicts, now: 5000 });

  assert.deepEqual(
    graph.nodes.map((node) => `${node.type}:${node.id}`),
    [
      'location:inside',
      'location:edge',
      'location:outside-tokyo',
      'line:line',
      'target:10.0.0.53',
      'target:10.0.0.5:22',
      'target:[::1]:22',
      'target:shop.test',
      'target:shop.test:443',
      'target:shop.test:8443',
    ],
    'inside before outside, each by id; targets by id (code-unit order)',
  );
  // Other paths from outside-tokyo work: they cross the line, so the line is not what failed.
  const line = graph.nodes.find((node) => node.type === 'line')!;
  assert.deepEqual(line, { type: 'line', id: 'line', state: 'UP', brokenFor: ['shop.test'] });
  const shop = graph.nodes.find((node) => node.id === 'shop.test') as MapTargetNode;
  assert.equal(shop.name, 'Shop, Shop API');
  assert.equal(shop.verdict, 'outside-path');
  assert.deepEqual(
    shop.verdicts.map((v) => v.checkId),
    ['web-api'],
  );
  const byId = new Map(graph.edges.map((edge) => [edge.id, edge]));
  const broken = byId.get('outside-tokyo~shop.test')!;
  assert.equal(broken.state, 'DOWN');
  assert.equal(broken.via, 'line');
  assert.equal(broken.href, '/?path=outside-tokyo~shop.test');
  assert.deepEqual(
    broken.failing.map((check) => [check.id, check.state, check.lastError]),
    [
      ['web-api', 'DOWN', 'connect to shop.test:443 timed out'],
      ['web', 'DEGRADED', undefined],
    ],
  );
  assert.equal(byId.get('inside~shop.test')!.state, 'UP');
  assert.equal(byId.get('inside~shop.test')!.via, undefined);
  assert.equal(byId.get('edge~shop.test')!.state, 'UNKNOWN');
  assert.equal(graph.edges.length, 6 * 3, 'every enabled target from every location');
  const edgeNode = graph.nodes.find((node) => node.id === 'edge');
  assert.deepEqual(edgeNode, {
    type: 'location',
    id: 'edge',
    side: 'outside',
    liveWorkers: 0,
    live: false,
    control: { checkId: 'ssh', state: 'UP' },
  });
  assert.deepEqual(buildMapGraph({ items, locations, states, verdicts, now: 5000 }), graph, 'deterministic');
});

test('the line is DOWN only when no path from outside works; one failing path among working ones lies beyond it', () => {
  const items = mapItemsOf(config, []);
  const locations = [
    { id: 'inside', side: 'inside' as const, liveWorkers: 1 },
    { id: 'outside-tokyo', side: 'outside' as const, liveWorkers: 1 },
  ];
  const views = locations.map((l) => ({ id: l.id, side: l.side, live: true, controlDown: false }));
  const graphWith = (outsideState: (id: string) => CheckStateName) => {
    const states = new Map<string, Record<string, CheckState>>(
      items.map((item) => [item.id, { inside: state('UP'), 'outside-tokyo': state(outsideState(item.id)) }]),
    );
    const verdicts = new Map(
      items.map((item) => [item.id, computeVerdict(views, states.get(item.id)!)] as const),
    );
    const graph = buildMapGraph({ items, locations, states, verdicts, now: 5000 });
    return graph.nodes.find((node) => node.type === 'line')!;
  };
  // Every path from outside fails while inside passes: the line itself.
  const cut = graphWith(() => 'DOWN');
  assert.equal(cut.state, 'DOWN');
  assert.ok(cut.brokenFor.length > 1);
  // One fails, the others pass through the line: the line is up, the fault beyond it.
  const one = graphWith((id) => (id === 'web-api' ? 'DOWN' : 'UP'));
  assert.equal(one.state, 'UP');
  assert.deepEqual(one.brokenFor, ['shop.test']);
  const svg = renderMapSvg(
    buildMapGraph({
      items,
      locations,
      states: new Map(
        items.map((item) => [
          item.id,
          { inside: state('UP'), 'outside-tokyo': state(item.id === 'web-api' ? 'DOWN' : 'UP') },
        ]),
      ),
      verdicts: new Map(
        items.map((item) => [
          item.id,
          computeVerdict(views, {
            inside: state('UP'),
            'outside-tokyo': state(item.id === 'web-api' ? 'DOWN' : 'UP'),
          }),
        ]),
      ),
      now: 5000,
    }),
    { language: 'en' },
  );
  assert.match(svg, /<g class="line" data-state="UP">/);
  assert.match(
    svg,
    /The line carries other paths: the paths to shop\.test fail from outside only, beyond it\./,
  );
});
