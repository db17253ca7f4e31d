import type { CheckStateName } from '../results/state-store.ts';
import type { MapEdge, MapGraph, MapLineNode, MapLocationNode, MapTargetNode } from './map-graph.ts';
import { stateRank, worstState } from './map-graph.ts';
import { type MapLanguage, mapMessage, stateLabel, verdictLabel } from './map-messages.ts';

/**
 * How each state is drawn: a colour and, for readers who cannot tell the colours apart, a
 * dash pattern and a width of its own. Attributes, not CSS, so the SVG looks the same
 * wherever it is opened (an <img>, a mail, a file).
 */
export const EDGE_STYLE: Record<CheckStateName, { stroke: string; dash?: string; width: number }> = {
  UP: { stroke: '#2e7d32', width: 2 },
  DEGRADED: { stroke: '#b45f00', dash: '10 4', width: 2.5 },
  UNKNOWN: { stroke: '#8a8a8a', dash: '2 4', width: 1.5 },
  DOWN: { stroke: '#d32f2f', dash: '7 3 1 3', width: 3.5 },
};

export interface RenderMapOptions {
  language?: MapLanguage;
  /**
   * Most targets drawn one by one; beyond, the healthiest are folded into one "+N more" row.
   * @defaultValue 200
   */
  maxTargets?: number;
}

const FONT = 'system-ui, -apple-system, "Segoe UI", "Noto Sans CJK JP", "Noto Sans JP", sans-serif';
const PAD = 16;
const TOP = 96;
const LOC_X = PAD;
const LOC_W = 230;
const LOC_H = 54;
const LOC_GAP = 10;
const HEADING_H = 26;
const LINE_X = 310;
const LINE_W = 64;
const TARGET_X = 450;
const TARGET_W = 330;
const TARGET_H = 34;
const TARGET_GAP = 6;
const WIDTH = TARGET_X + TARGET_W + PAD;

/** Characters XML 1.0 forbids even escaped: a hostile name must not make the SVG unreadable. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters removed
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udfff]/gu;

/** Text safe inside an element or a quoted attribute. */
export function escapeXml(text: string): string {
  return text
    .replace(NOT_XML, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Wide (CJK, full-width) characters take about two columns of a Latin font. */
function columns(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  return (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    code >= 0x1f300
    ? 2
    : 1;
}

/** `text` cut to about `width` columns with an ellipsis: a label never runs over its box. */
export function fitText(text: string, width: number): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  let used = 0;
  for (let index = 0; index < chars.length; index++) {
    used += columns(chars[index]);
    if (used > width) return `${chars.slice(0, index).join('').trimEnd()}…`;
  }
  return chars.join('');
}

function text(
  x: number,
  y: number,
  content: string,
  attributes: Record<string, string | number> = {},
): string {
  const extra = Object.entries(attributes)
    .map(([name, value]) => ` ${name}="${escapeXml(String(value))}"`)
    .join('');
  return `<text x="${x}" y="${y}"${extra}>${escapeXml(content)}</text>`;
}

function strokeAttributes(state: CheckStateName): string {
  const style = EDGE_STYLE[state];
  return `stroke="${style.stroke}" stroke-width="${style.width}"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''}`;
}

/** Which targets get a row of their own: all, or the worst `max - 1` and a "+N more" row. */
function visibleTargets(
  targets: MapTargetNode[],
  max: number,
): { shown: MapTargetNode[]; hidden: MapTargetNode[] } {
  if (targets.length <= max) return { shown: targets, hidden: [] };
  const worstFirst = [...targets].sort(
    (a, b) =>
      Number(b.verdict !== 'ok' && b.verdict !== 'no-data') -
        Number(a.verdict !== 'ok' && a.verdict !== 'no-data') ||
      stateRank(b.state) - stateRank(a.state) ||
      (a.id < b.id ? -1 : 1),
  );
  const keep = new Set(worstFirst.slice(0, Math.max(0, max - 1)));
  return {
    shown: targets.filter((target) => keep.has(target)),
    hidden: targets.filter((target) => !keep.has(target)),
  };
}

function edgeTitle(edge: MapEdge, language: MapLanguage): string {
  const lines = [`${edge.from} → ${edge.to}: ${stateLabel(language, edge.state)}`];
  if (edge.failing.length === 0) lines.push(mapMessage(language, 'noneFailing'));
  else {
    lines.push(mapMessage(language, 'failing'));
    for (const check of edge.failing.slice(0, 20)) {
      const error = check.lastError ? ` — ${fitText(check.lastError, 160)}` : '';
      lines.push(`• ${fitText(check.name, 80)} (${check.id}, ${stateLabel(language, check.state)})${error}`);
    }
    if (edge.failing.length > 20) lines.push(`… +${edge.failing.length - 20}`);
  }
  return lines.join('\n');
}

/**
 * The map as one self-contained SVG (no script, no external font or image): locations on
 * the left, inside above outside, the line between the outside and the services, services on
 * the right; each path a link to the checks on it, coloured and dashed by its state, with
 * its failing checks in a tooltip. Same graph, same bytes.
 */
export function renderMapSvg(graph: MapGraph, options: RenderMapOptions = {}): string {
  const language = options.language ?? 'en';
  const maxTargets = Math.max(1, options.maxTargets ?? 200);
  const locations = graph.nodes.filter((node): node is MapLocationNode => node.type === 'location');
  const line = graph.nodes.find((node): node is MapLineNode => node.type === 'line');
  const targets = graph.nodes.filter((node): node is MapTargetNode => node.type === 'target');
  const { shown, hidden } = visibleTargets(targets, maxTargets);
  const parts: string[] = [];

  // Locations, grouped by side, each group under its heading.
  const locationY = new Map<string, number>();
  let y = TOP;
  const outsideSpan: number[] = [];
  for (const side of ['inside', 'outside'] as const) {
    const group = locations.filter((location) => location.side === side);
    if (group.length === 0) continue;
    parts.push(text(LOC_X, y + 16, mapMessage(language, side), { class: 'heading', 'font-weight': 700 }));
    y += HEADING_H;
    for (const location of group) {
      locationY.set(location.id, y + LOC_H / 2);
      if (side === 'outside') outsideSpan.push(y, y + LOC_H);
      const controlDown = location.control?.state === 'DOWN';
      const frame = !location.live ? '#8a8a8a' : controlDown ? EDGE_STYLE.DOWN.stroke : '#455a64';
      const workers = location.live
        ? mapMessage(language, 'liveWorkers', { count: location.liveWorkers })
        : mapMessage(language, 'noWorkers');
      const control = location.control
        ? ` · ${mapMessage(language, 'control', { check: location.control.checkId, state: stateLabel(language, location.control.state) })}`
        : '';
      parts.push(
        `<g class="location" data-id="${escapeXml(location.id)}" data-side="${side}">`,
        `<rect x="${LOC_X}" y="${y}" width="${LOC_W}" height="${LOC_H}" rx="6" fill="#ffffff" stroke="${frame}" stroke-width="1.5"${location.live ? '' : ' stroke-dasharray="4 3"'}/>`,
        text(LOC_X + 8, y + 17, fitText(location.id, 30), { 'font-weight': 700 }),
        text(LOC_X + 8, y + 32, fitText(location.description ?? '', 34), {
          'font-size': 11,
          fill: '#37474f',
        }),
        text(LOC_X + 8, y + 47, fitText(`${workers}${control}`, 38), {
          'font-size': 11,
          fill: !location.live || controlDown ? EDGE_STYLE.DOWN.stroke : '#37474f',
        }),
        '</g>',
      );
      y += LOC_H + LOC_GAP;
    }
  }
  const locationsBottom = y;

  // Services, one row each, then the folded rest.
  const targetY = new Map<string, number>();
  let ty = TOP;
  parts.push(
    text(TARGET_X, ty + 16, mapMessage(language, 'services'), { class: 'heading', 'font-weight': 700 }),
  );
  ty += HEADING_H;
  for (const target of shown) {
    targetY.set(target.id, ty + TARGET_H / 2);
    const blamed = target.verdict !== 'ok' && target.verdict !== 'no-data';
    const badge = blamed ? ` · ${verdictLabel(language, target.verdict)}` : '';
    parts.push(
      `<g class="target" data-id="${escapeXml(target.id)}" data-state="${target.state}" data-verdict="${target.verdict}">`,
      `<title>${escapeXml(`${target.id}\n${target.name}\n${verdictLabel(language, target.verdict)}: ${target.summary}`)}</title>`,
      `<rect x="${TARGET_X}" y="${ty}" width="${TARGET_W}" height="${TARGET_H}" rx="5" fill="#ffffff" ${strokeAttributes(target.state)}/>`,
      text(TARGET_X + 8, ty + 14, fitText(`${target.id}${badge}`, 52), {
        'font-weight': 700,
        'font-size': 12,
        ...(blamed ? { fill: EDGE_STYLE.DOWN.stroke } : {}),
      }),
      text(TARGET_X + 8, ty + 28, fitText(target.name, 56), { 'font-size': 11, fill: '#37474f' }),
      '</g>',
    );
    ty += TARGET_H + TARGET_GAP;
  }
  if (hidden.length > 0) {
    const counts = new Map<CheckStateName, number>();
    for (const target of hidden) counts.set(target.state, (counts.get(target.state) ?? 0) + 1);
    const states = (['DOWN', 'DEGRADED', 'UNKNOWN', 'UP'] as const)
      .filter((state) => counts.has(state))
      .map((state) => `${counts.get(state)} ${stateLabel(language, state)}`)
      .join(', ');
    parts.push(
      `<g class="more" data-count="${hidden.length}" data-state="${worstState(hidden.map((target) => target.state))}">`,
      `<rect x="${TARGET_X}" y="${ty}" width="${TARGET_W}" height="${TARGET_H}" rx="5" fill="#f5f5f5" stroke="#8a8a8a" stroke-dasharray="2 4"/>`,
      text(TARGET_X + 8, ty + 21, mapMessage(language, 'more', { count: hidden.length, states }), {
        'font-size': 12,
      }),
      '</g>',
    );
    ty += TARGET_H + TARGET_GAP;
  }
  if (targets.length === 0) {
    parts.push(text(TARGET_X, ty + 16, mapMessage(language, 'empty'), { 'font-size': 12, fill: '#37474f' }));
    ty += HEADING_H;
  }

  // The line: a band beside the outside locations every outside path crosses.
  const lineParts: string[] = [];
  if (line && outsideSpan.length > 0) {
    const top = Math.min(...outsideSpan);
    const height = Math.max(...outsideSpan) - top;
    const broken = line.state === 'DOWN';
    const targets = line.brokenFor.slice(0, 30).join(', ');
    const title = broken
      ? mapMessage(language, 'lineBroken', { targets })
      : line.brokenFor.length > 0
        ? mapMessage(language, 'lineBeyond', { targets })
        : mapMessage(language, 'lineOk');
    lineParts.push(
      `<g class="line" data-state="${line.state}">`,
      `<title>${escapeXml(title)}</title>`,
      `<rect x="${LINE_X}" y="${top}" width="${LINE_W}" height="${height}" rx="8" fill="${broken ? '#fdecea' : '#eceff1'}" ${strokeAttributes(line.state)}/>`,
      text(LINE_X + LINE_W / 2, top - 6, mapMessage(language, 'line'), {
        'text-anchor': 'middle',
        'font-size': 12,
        'font-weight': 700,
        ...(broken ? { fill: EDGE_STYLE.DOWN.stroke } : {}),
      }),
      '</g>',
    );
  }

  // Paths: healthy first, so a broken one is drawn on top and never hidden under them.
  const edgeParts: string[] = [];
  const drawn = graph.edges
    .filter((edge) => locationY.has(edge.from) && targetY.has(edge.to))
    .sort((a, b) => stateRank(a.state) - stateRank(b.state));
  const fromX = LOC_X + LOC_W;
  for (const edge of drawn) {
    const y1 = locationY.get(edge.from)!;
    const y2 = targetY.get(edge.to)!;
    const d =
      edge.via === 'line' && line
        ? `M${fromX} ${y1} L${LINE_X + LINE_W} ${y1} C${LINE_X + LINE_W + 40} ${y1} ${TARGET_X - 40} ${y2} ${TARGET_X} ${y2}`
        : `M${fromX} ${y1} C${fromX + 110} ${y1} ${TARGET_X - 110} ${y2} ${TARGET_X} ${y2}`;
    edgeParts.push(
      `<a href="${escapeXml(edge.href)}" class="edge" data-path="${escapeXml(edge.id)}" data-state="${edge.state}">`,
      `<title>${escapeXml(edgeTitle(edge, language))}</title>`,
      `<path class="edge-line" d="${d}" fill="none" ${strokeAttributes(edge.state)} stroke-linecap="round"/>`,
      // A thin line is hard to hit: a wide transparent twin takes the click.
      `<path class="edge-hit" d="${d}" fill="none" stroke="transparent" stroke-width="12" pointer-events="stroke"/>`,
      '</a>',
    );
  }

  // The legend: each state's colour and dash, named, so the picture needs no colour vision.
  const legend: string[] = [text(PAD, 62, mapMessage(language, 'legend'), { 'font-size': 12 })];
  let lx = PAD + 110;
  for (const state of ['UP', 'DEGRADED', 'UNKNOWN', 'DOWN'] as const) {
    legend.push(
      `<g class="legend" data-state="${state}"><line x1="${lx}" y1="58" x2="${lx + 36}" y2="58" ${strokeAttributes(state)}/>`,
      `${text(lx + 42, 62, stateLabel(language, state), { 'font-size': 12 })}</g>`,
    );
    lx += 150;
  }

  const height = Math.max(locationsBottom, ty) + PAD;
  const asOf = new Date(graph.generatedAt).toISOString().replace('T', ' ').slice(0, 19);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" lang="${language}" xml:lang="${language}" font-family="${escapeXml(FONT)}" font-size="13" fill="#263238" role="img" aria-labelledby="map-title">`,
    `<title id="map-title">${escapeXml(`pathwatch · ${mapMessage(language, 'title')}`)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#fafafa"/>`,
    text(PAD, 28, mapMessage(language, 'title'), { 'font-size': 18, 'font-weight': 700 }),
    text(WIDTH - PAD, 28, mapMessage(language, 'asOf', { time: asOf }), {
      'font-size': 11,
      'text-anchor': 'end',
      fill: '#546e7a',
    }),
    ...legend,
    ...lineParts,
    ...edgeParts,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
