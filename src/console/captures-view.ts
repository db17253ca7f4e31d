import type { MonitoredItem } from '../api/routes/checks-routes.ts';
import { timeParam } from '../api/routes/time-param.ts';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import { type CaptureListing, listCaptures } from '../evidence/list-captures.ts';
import type { PageLanguage } from '../evidence/run-page/messages.ts';
import type { ResultsRecorder } from '../results/results-recorder.ts';
import {
  CAPTURE_LINK_TTL_MS,
  type CaptureFile,
  captureFilePath,
  signCaptureFile,
} from './capture-file-link.ts';
import { type ConsoleMessageKey, consoleTranslator } from './console-messages.ts';

export const CAPTURE_TYPES = ['slice', 'collection'] as const;
export type CaptureType = (typeof CAPTURE_TYPES)[number];

/** Rows the page shows at most; the API's own default page. */
export const CAPTURES_PAGE_LIMIT = 100;

export interface CaptureFilters {
  check?: string;
  location?: string;
  type?: CaptureType;
  from?: number;
  to?: number;
}

/** A filter the page refuses: the field, what it expects (a message key) and what was given. */
export interface CaptureFilterProblem {
  field: string;
  expected: ConsoleMessageKey;
  values?: string;
  given: string;
}

const FILTER_FIELDS = ['check', 'location', 'type', 'from', 'to'] as const;
/** A form's `datetime-local` value (no zone): the page says its times are UTC, so it is read as UTC. */
const LOCAL_MINUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;
const oneOf = (values: string[]) =>
  values.length > 12 ? `${values.slice(0, 12).join(', ')}, …` : values.join(', ');

function parseTime(raw: string): number | undefined {
  const parsed = timeParam().safeParse(LOCAL_MINUTE.test(raw) ? `${raw}Z` : raw);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The filters of the page's GET form, checked as GET /api/v1/captures checks its own (a
 * declared check, a declared location, times, from before to), the first bad one named.
 * Empty fields mean "all". `raw` keeps what was typed, to show it back in the form.
 */
export function parseCaptureFilters(
  query: Record<string, unknown>,
  items: MonitoredItem[],
  locations: string[],
): { filters: CaptureFilters; raw: Record<string, string>; problem?: CaptureFilterProblem } {
  const raw = Object.fromEntries(
    FILTER_FIELDS.map((field) => [field, typeof query[field] === 'string' ? (query[field] as string) : '']),
  ) as Record<(typeof FILTER_FIELDS)[number], string>;
  const filters: CaptureFilters = {};
  const refuse = (field: string, expected: ConsoleMessageKey, values?: string) => ({
    filters,
    raw,
    problem: { field, expected, values, given: raw[field as keyof typeof raw] },
  });
  if (raw.check) {
    if (!items.some((item) => item.id === raw.check))
      return refuse('check', 'expectCheck', oneOf(items.map((item) => item.id)));
    filters.check = raw.check;
  }
  if (raw.location) {
    if (!locations.includes(raw.location)) return refuse('location', 'expectLocation', oneOf(locations));
    filters.location = raw.location;
  }
  if (raw.type) {
    if (!(CAPTURE_TYPES as readonly string[]).includes(raw.type)) return refuse('type', 'expectType');
    filters.type = raw.type as CaptureType;
  }
  for (const field of ['from', 'to'] as const) {
    if (!raw[field]) continue;
    const at = parseTime(raw[field]);
    if (at === undefined) return refuse(field, 'expectTime');
    filters[field] = at;
  }
  if (filters.from !== undefined && filters.to !== undefined && filters.from > filters.to)
    return refuse('from', 'expectOrder');
  return { filters, raw };
}

export interface CaptureRow {
  type: CaptureType;
  typeLabel: string;
  time: string;
  check: string | null;
  checkName: string | null;
  location: string | null;
  runId: string | null;
  collection: string | null;
  name: string;
  size: string;
  /** Signed, short-lived links to the pcap and its analysis. */
  download: string;
  analysis: string | null;
}

export interface CapturesView {
  rows: CaptureRow[];
  more: boolean;
  /** When the page's download links stop opening (UTC). */
  linksUntil: string;
}

/** `2026-12-07 10:30:00 UTC`: captures are read to the second. */
export function utcSecond(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A size in bytes as people read it (1 KB = 1024 bytes). */
export function byteSize(bytes: number | null): string {
  if (bytes === null) return '–';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** The file a listing's URL (or analysis URL) names: its last path segment, decoded. */
function fileOf(capture: CaptureListing, url: string): CaptureFile {
  const name = decodeURIComponent(url.slice(url.lastIndexOf('/') + 1));
  return capture.type === 'slice'
    ? { source: 'run', id: capture.runId ?? '', name }
    : { source: 'collection', id: capture.collection ?? '', name };
}

export interface CapturesSources {
  recorder: ResultsRecorder;
  artifacts?: ArtifactStore;
  items: MonitoredItem[];
  runsPerSeries: number;
  linkKey: Buffer;
}

/**
 * The page's rows: listCaptures (the API's listing) with the same depth per check as GET
 * /api/v1/captures, and each file's download as a link signed for that one file.
 */
export async function buildCapturesView(
  sources: CapturesSources,
  filters: CaptureFilters,
  language: PageLanguage,
  now = Date.now(),
): Promise<CapturesView> {
  const t = consoleTranslator(language);
  const { location } = filters;
  const picked = filters.check ? sources.items.filter((item) => item.id === filters.check) : sources.items;
  const checks =
    filters.type === 'collection'
      ? []
      : picked
          .filter((item) => location === undefined || item.locations.includes(location))
          .map((item) => ({
            id: item.id,
            depth: sources.runsPerSeries * (location === undefined ? item.locations.length : 1),
          }));
  const { captures, more } = await listCaptures(sources.recorder.runs, sources.artifacts, {
    checks,
    location,
    from: filters.from,
    to: filters.to,
    limit: CAPTURES_PAGE_LIMIT,
    // Collections are host-wide: a check or location filter leaves them out, as in the API.
    includeCollections: filters.type !== 'slice' && filters.check === undefined && location === undefined,
  });
  const expiresAt = now + CAPTURE_LINK_TTL_MS;
  const link = (capture: CaptureListing, url: string) => {
    const file = fileOf(capture, url);
    return captureFilePath(file, signCaptureFile(sources.linkKey, file, expiresAt));
  };
  const names = new Map(sources.items.map((item) => [item.id, item.name ?? item.id]));
  return {
    more,
    linksUntil: utcSecond(expiresAt),
    rows: captures.map((capture) => ({
      type: capture.type,
      typeLabel: t(capture.type === 'slice' ? 'captureTypeSlice' : 'captureTypeCollection'),
      time: utcSecond(Date.parse(capture.time)),
      check: capture.check,
      checkName: capture.check === null ? null : (names.get(capture.check) ?? capture.check),
      location: capture.location,
      runId: capture.runId,
      collection: capture.collection,
      name: capture.name,
      size: byteSize(capture.bytes),
      download: link(capture, capture.url),
      analysis: capture.analysisUrl ? link(capture, capture.analysisUrl) : null,
    })),
  };
}
