import { artifactKindOf } from '../artifacts/artifact-kind.ts';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import type { ResultStore } from '../results/result-store.ts';
import { parseCollectionKey } from './collection-file.ts';

/** A packet capture as the captures listing shows it: a run's slice or a periodic collection. */
export interface CaptureListing {
  type: 'slice' | 'collection';
  /** The check or journey whose run it was cut for; null for a collection (host-wide). */
  check: string | null;
  location: string | null;
  runId: string | null;
  collection: string | null;
  /** The run's start (a slice) or the end of the window (a collection), ISO 8601 UTC. */
  time: string;
  bytes: number | null;
  name: string;
  /** Where to download it (Range works there); relative to the API. */
  url: string;
  /** Its analysis (a slice: the text; a collection: the JSON), when stored. */
  analysisUrl: string | null;
}

export interface CaptureFilter {
  /** The checks whose runs are searched, each with how many runs its history may hold. */
  checks: Array<{ id: string; depth: number }>;
  location?: string;
  from?: number;
  to?: number;
  limit: number;
  /** Periodic collections have no check or location: a filter on either leaves them out. */
  includeCollections: boolean;
}

const within = (at: number, filter: CaptureFilter) =>
  (filter.from === undefined || at >= filter.from) && (filter.to === undefined || at <= filter.to);

/**
 * Slices (from runs' pcap artifacts) and periodic collections, newest first, at most
 * `limit`, and whether more matched. A check's run history is read whole (it is capped at
 * runsPerSeries per location), since slices sit on the failed runs only.
 */
export async function listCaptures(
  runs: ResultStore,
  store: ArtifactStore | undefined,
  filter: CaptureFilter,
): Promise<{ captures: CaptureListing[]; more: boolean }> {
  const histories = await Promise.all(
    filter.checks.map((check) => runs.listRuns(check.id, { location: filter.location, limit: check.depth })),
  );
  const found: Array<CaptureListing & { at: number }> = [];
  for (const run of histories.flat()) {
    if (!within(run.startedAt, filter)) continue;
    const names = new Set((run.artifacts ?? []).map((ref) => ref.key.split('/').pop() ?? ''));
    for (const ref of run.artifacts ?? []) {
      const name = ref.key.split('/').pop() ?? '';
      if (!name.endsWith('.pcap') || artifactKindOf(ref.key) !== 'captures') continue;
      const base = `/api/v1/runs/${encodeURIComponent(run.runId)}/artifacts/`;
      const analysis = name.replace(/\.pcap$/, '-analysis.txt');
      found.push({
        type: 'slice',
        check: run.checkId,
        location: run.location,
        runId: run.runId,
        collection: null,
        at: run.startedAt,
        time: new Date(run.startedAt).toISOString(),
        bytes: ref.bytes ?? null,
        name,
        url: base + encodeURIComponent(name),
        analysisUrl: names.has(analysis) ? base + encodeURIComponent(analysis) : null,
      });
    }
  }
  if (filter.includeCollections && store) {
    const stored = await store.list('captures/');
    const keys = new Set(stored.map((artifact) => artifact.key));
    for (const artifact of stored) {
      const parsed = parseCollectionKey(artifact.key);
      if (!parsed?.file.endsWith('.pcap') || !within(parsed.endsAt, filter)) continue;
      const base = `/api/v1/captures/collections/${encodeURIComponent(parsed.collection)}/`;
      const analysis = `${parsed.base}.analysis.json`;
      found.push({
        type: 'collection',
        check: null,
        location: null,
        runId: null,
        collection: parsed.collection,
        at: parsed.endsAt,
        time: new Date(parsed.endsAt).toISOString(),
        bytes: artifact.bytes,
        name: parsed.file,
        url: base + encodeURIComponent(parsed.file),
        analysisUrl: keys.has(analysis)
          ? base + encodeURIComponent(analysis.slice(analysis.lastIndexOf('/') + 1))
          : null,
      });
    }
  }
  found.sort((a, b) => b.at - a.at || a.url.localeCompare(b.url));
  return {
    captures: found.slice(0, filter.limit).map(({ at: _at, ...listing }) => listing),
    more: found.length > filter.limit,
  };
}
