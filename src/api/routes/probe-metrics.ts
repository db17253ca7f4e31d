import type { ResultsRecorder } from '../../results/results-recorder.ts';
import type { RunResult } from '../../results/run-result.ts';
import type { MonitoredItem } from './checks-routes.ts';
import { metricLabel } from './metric-label.ts';

/** blackbox_exporter's names for the phases of an HTTP probe, by ours. */
const HTTP_PHASES: Readonly<Record<string, string>> = {
  dns: 'resolve',
  connect: 'connect',
  tls: 'tls',
  firstByte: 'processing',
  download: 'transfer',
};

/**
 * The earliest `validTo` of the certificate chain a run saw (leaf and chain), in epoch
 * seconds, as blackbox_exporter's probe_ssl_earliest_cert_expiry; undefined without one.
 */
export function earliestCertificateExpiry(run: RunResult): number | undefined {
  const certificate = (run.details as { certificate?: unknown } | undefined)?.certificate as
    | { validTo?: unknown; chain?: Array<{ validTo?: unknown }> }
    | undefined;
  if (!certificate) return undefined;
  const times = [certificate.validTo, ...(certificate.chain ?? []).map((member) => member.validTo)]
    .filter((value): value is string => typeof value === 'string')
    .map((value) => Date.parse(value))
    .filter((ms) => Number.isFinite(ms));
  return times.length > 0 ? Math.min(...times) / 1000 : undefined;
}

interface Sample {
  labels: Record<string, string>;
  value: number;
}

function family(name: string, type: string, help: string, samples: Sample[]): string[] {
  if (samples.length === 0) return [];
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} ${type}`,
    ...samples.map(
      ({ labels, value }) =>
        `${name}{${Object.entries(labels)
          .map(([key, text]) => `${key}="${metricLabel(text)}"`)
          .join(',')}} ${value}`,
    ),
  ];
}

/**
 * The latest run of every check and journey at every location, in the names Prometheus
 * users know from blackbox_exporter (probe_success, probe_duration_seconds,
 * probe_http_duration_seconds by phase, probe_http_status_code,
 * probe_ssl_earliest_cert_expiry), labelled by check and location, plus every phase of
 * every kind under pathwatch's own phase names.
 */
export async function probeMetricLines(items: MonitoredItem[], recorder: ResultsRecorder): Promise<string[]> {
  const success: Sample[] = [];
  const duration: Sample[] = [];
  const httpPhases: Sample[] = [];
  const phases: Sample[] = [];
  const statusCodes: Sample[] = [];
  const expiry: Sample[] = [];
  // One scrape reads every series' latest run: the latest ids per check at once, then the
  // runs in one MGET, not a round trip per check and location.
  const latestByItem = await Promise.all(items.map((item) => recorder.runs.latest(item.id)));
  const wanted = items.flatMap((item, index) =>
    item.locations
      .map((location) => ({ item, location, runId: latestByItem[index][location]?.runId }))
      .filter(
        (entry): entry is { item: MonitoredItem; location: string; runId: string } =>
          entry.runId !== undefined,
      ),
  );
  const runs = await recorder.runs.getRuns(wanted.map((entry) => entry.runId));
  for (const [index, { item, location }] of wanted.entries()) {
    const run = runs[index];
    if (!run) continue;
    const labels = { check: item.id, location };
    // Like blackbox_exporter: the probe succeeded when its checks held; degraded is a pass.
    success.push({ labels, value: run.status === 'pass' || run.status === 'degraded' ? 1 : 0 });
    duration.push({ labels, value: run.phases.total / 1000 });
    for (const [phase, ms] of Object.entries(run.phases)) {
      if (phase === 'total' || ms === undefined) continue;
      phases.push({ labels: { ...labels, phase }, value: ms / 1000 });
      if (run.kind === 'http' && HTTP_PHASES[phase])
        httpPhases.push({ labels: { ...labels, phase: HTTP_PHASES[phase] }, value: ms / 1000 });
    }
    const statusCode = (run.details as { statusCode?: unknown } | undefined)?.statusCode;
    if (typeof statusCode === 'number') statusCodes.push({ labels, value: statusCode });
    const earliest = earliestCertificateExpiry(run);
    if (earliest !== undefined) expiry.push({ labels, value: earliest });
  }
  return [
    ...family('probe_success', 'gauge', 'whether the latest run passed (1) or not (0)', success),
    ...family('probe_duration_seconds', 'gauge', 'how long the latest run took', duration),
    ...family(
      'probe_http_duration_seconds',
      'gauge',
      'phases of the latest http run (resolve, connect, tls, processing, transfer)',
      httpPhases,
    ),
    ...family('probe_http_status_code', 'gauge', 'status code of the latest http answer', statusCodes),
    ...family(
      'probe_ssl_earliest_cert_expiry',
      'gauge',
      'earliest expiry (epoch seconds) in the certificate chain the latest run saw',
      expiry,
    ),
    ...family(
      'pathwatch_phase_duration_seconds',
      'gauge',
      'every phase of the latest run, by pathwatch phase name',
      phases,
    ),
  ];
}
