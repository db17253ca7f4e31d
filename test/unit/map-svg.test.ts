import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomUtils, parseDocument } from 'htmlparser2';
import { buildMapGraph, type MapGraph } from '../../src/map/map-graph.ts';
import type { MapItem } from '../../src/map/map-target.ts';
import { EDGE_STYLE, fitText, renderMapSvg } from '../../src/map/render-map-svg.ts';
import type { CheckState, CheckStateName } from '../../src/results/state-store.ts';
import { computeVerdict, type LocationSide } from '../../src/results/verdict.ts';

type Element = ReturnType<typeof DomUtils.getElementsByTagName>[number];

function state(name: CheckStateName, lastError?: string): CheckState {
  return { state: name, since: 1, consecutiveFailures: 0, consecutivePasses: 0, flapping: false, lastError };
}

/** A graph from plain rows: each item is an http check of `host`, with its state per location. */
function graphOf(
  locations: Array<{ id: string; side: LocationSide }>,
  rows: Array<{
    id: string;
    name: string;
    host: string;
    states: Record<string, CheckStateName>;
    error?: string;
  }>,
): MapGraph {
  const items: MapItem[] = rows.map((row) => ({
    id: row.id,
    name: row.name,
    kind: 'http',
    locations: Object.keys(row.states),
    http: { url: `http://${row.host}/` },
  }));
  const states = new Map(
    rows.map((row) => [
      row.id,
      Object.fromEntries(Object.entries(row.states).map(([l, s]) => [l, state(s, row.error)])),
    ]),
  );
  const views = locations.map((l) => ({ ...l, live: true, controlDown: false }));
  const verdicts = new Map(rows.map((row) => [row.id, computeVerdict(views, states.get(row.id)!)]));
  return buildMapGraph({
    items,
    locations: locations.map((l) => ({ ...l, liveWorkers: 1 })),
    states,
    verdicts,
    now: Date.UTC(2026, 11, 7, 10, 0, 0),
  });
}

function parse(svg: string) {
  const document = parseDocument(svg, { xmlMode: true });
  const all = DomUtils.getElementsByTagName(() => true, document.children, true);
  const byTag = (tag: string) => all.filter((element) => element.name === tag);
  return { document, all, byTag };
}

const edgesOf = (byTag: (tag: string) => Element[]) => byTag('a').filter((a) => a.attribs.class === 'edge');

const twoSides = [
  { id: 'inside', side: 'inside' as const },
  { id: 'outside', side: 'outside' as const },
];

test('the SVG is self-contained XML: edges are links with a title, styled by state', () => {
  const svg = renderMapSvg(
    graphOf(twoSides, [
      {
        id: 'a',
        name: 'Shop',
        host: 'shop.test',
        states: { inside: 'UP', outside: 'DOWN' },
        error: 'refused',
      },
      { id: 'b', name: 'Mail', host: 'mail.test', states: { inside: 'DEGRADED', outside: 'UNKNOWN' } },
    ]),
  );
  const { document, all, byTag } = parse(svg);
  const root = DomUtils.getElementsByTagName('svg', document.children, false)[0];
  assert.equal(root.attribs.xmlns, 'http://www.w3.org/2000/svg');
  assert.equal(root.attribs.lang, 'en');
  for (const element of all) {
    assert.notEqual(element.name, 'script');
    assert.notEqual(element.name, 'image');
    assert.notEqual(element.name, 'foreignObject');
    for (const [name, value] of Object.entries(element.attribs)) {
      assert.ok(!/^on/i.test(name), `no event handler (${name})`);
      assert.ok(!/(https?:)?\/\/|url\(/i.test(value) || name === 'xmlns', `no external reference: ${value}`);
    }
  }
  const edges = edgesOf(byTag);
  assert.deepEqual(edges.map((a) => a.attribs['data-path']).sort(), [
    'inside~mail.test',
    'inside~shop.test',
    'outside~mail.test',
    'outside~shop.test',
  ]);
  const broken = edges.find((a) => a.attribs['data-path'] === 'outside~shop.test')!;
  assert.equal(broken.attribs.href, '/?path=outside~shop.test');
  const path = DomUtils.getElementsByTagName('path', broken.children, true)[0];
  assert.equal(path.attribs.stroke, EDGE_STYLE.DOWN.stroke);
  assert.equal(path.attribs['stroke-dasharray'], EDGE_STYLE.DOWN.dash, 'a dash for colour-blind readers');
  const title = DomUtils.textContent(DomUtils.getElementsByTagName('title', broken.children, true)[0]);
  assert.match(title, /outside → shop\.test: down\nFailing:\n• Shop \(a, down\) — refused/);
  const up = edges.find((a) => a.attribs['data-path'] === 'inside~shop.test')!;
  assert.equal(
    DomUtils.getElementsByTagName('path', up.children, true)[0].attribs.stroke,
    EDGE_STYLE.UP.stroke,
  );
  const styles = new Set(
    edges.map((a) => DomUtils.getElementsByTagName('path', a.children, true)[0].attribs['stroke-dasharray']),
  );
  assert.equal(styles.size, 4, 'each of the four states has its own dash pattern');
  assert.equal(byTag('g').find((g) => g.attribs.class === 'line')?.attribs['data-state'], 'DOWN');
  assert.equal(renderMapSvg(graphOf(twoSides, [])).includes('No check or journey'), true);
});

test('hostile names and ids are escaped: the SVG still parses and shows them as text', () => {
  const hostile = `</text><script>alert(1)</script>&amp; "q" 'a' \u0000\u001b end`;
  const svg = renderMapSvg(
    graphOf(twoSides, [
      {
        id: 'x',
        name: hostile,
        host: 'evil.test',
        states: { inside: 'DOWN', outside: 'DOWN' },
        error: hostile,
      },
    ]),
  );
  const { byTag } = parse(svg);
  assert.equal(byTag('script').length, 0);
  const target = byTag('g').find((g) => g.attribs.class === 'target')!;
  const shown = DomUtils.textContent(target);
  assert.ok(shown.includes('</text><script>alert(1)</script>&amp; "q"'), shown);
  assert.ok(!svg.includes('\u0000') && !svg.includes('\u001b'), 'characters XML forbids are replaced');
  const titles = edgesOf(byTag).map((a) =>
    DomUtils.textContent(a.children.find((c) => 'name' in c && c.name === 'title')!),
  );
  assert.ok(titles.every((title) => title.includes('<script>alert(1)</script>')));
});

test('Japanese labels with ?lang=ja, and wide characters are cut to fit', () => {
  const svg = renderMapSvg(
    graphOf(twoSides, [
      {
        id: 'pay',
        name: '決済サービス（本番）',
        host: 'pay.test',
        states: { inside: 'UP', outside: 'DOWN' },
      },
    ]),
    { language: 'ja' },
  );
  const { document, byTag } = parse(svg);
  assert.equal(DomUtils.getElementsByTagName('svg', document.children, false)[0].attribs.lang, 'ja');
  const texts = byTag('text').map((element) => DomUtils.textContent(element));
  for (const label of [
    '経路マップ',
    '内側（データセンター）',
    '外側',
    '回線',
    'サービス',
    '決済サービス（本番）',
  ]) {
    assert.ok(texts.includes(label), `${label} in ${texts.join(' | ')}`);
  }
  assert.ok(
    texts.some((text) => text.includes('外部経路の障害')),
    'the verdict, in Japanese',
  );
  assert.equal(fitText('決済サービス決済サービス', 10), '決済サービ…');
  assert.equal(fitText('shop', 10), 'shop');
});

test('20 locations and 300 targets: 199 rows and "+101 more", broken targets kept in view', () => {
  const locations = Array.from({ length: 20 }, (_, index) => ({
    id: `${index < 10 ? 'dc' : 'cloud'}-${String(index).padStart(2, '0')}`,
    side: (index < 10 ? 'inside' : 'outside') as LocationSide,
  }));
  const rows = Array.from({ length: 300 }, (_, index) => ({
    id: `c${index}`,
    name: `Check ${index}`,
    host: `svc-${String(index).padStart(3, '0')}.test`,
    states: Object.fromEntries(
      locations.map((l) => [l.id, index === 299 && l.side === 'outside' ? 'DOWN' : 'UP']),
    ) as Record<string, CheckStateName>,
  }));
  const svg = renderMapSvg(graphOf(locations, rows));
  const { byTag } = parse(svg);
  const targets = byTag('g').filter((g) => g.attribs.class === 'target');
  assert.equal(targets.length, 199);
  assert.ok(
    targets.some((g) => g.attribs['data-id'] === 'svc-299.test'),
    'the broken one, last by name, is shown',
  );
  const ids = targets.map((g) => g.attribs['data-id']);
  assert.deepEqual(ids, [...ids].sort(), 'rows stay sorted by name');
  const more = byTag('g').find((g) => g.attribs.class === 'more')!;
  assert.equal(more.attribs['data-count'], '101');
  assert.match(DomUtils.textContent(more).trim(), /^\+101 more \(101 up\)$/);
  assert.equal(byTag('g').filter((g) => g.attribs.class === 'location').length, 20);
  assert.equal(edgesOf(byTag).length, 199 * 20, 'paths of folded targets are not drawn');
  const height = Number(byTag('svg')[0].attribs.height);
  assert.ok(height > 200 * 40 && height < 200 * 42, `one row per shown target (height ${height})`);
  assert.equal(renderMapSvg(graphOf(locations, rows)), svg, 'same graph, same bytes');
});
