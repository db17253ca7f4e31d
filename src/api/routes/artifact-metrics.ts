import { ARTIFACT_KINDS } from '../../artifacts/artifact-kind.ts';
import type { ArtifactRetention } from '../../artifacts/artifact-retention.ts';

/**
 * What the artifact store holds per kind after the last retention pass, what retention has
 * deleted and why, and when it last ran. Sizes and counts are the last pass's: a scrape
 * never walks the store. Before the first pass only the counters (all zero) are served, as
 * an unknown size is not a size of 0; a process that runs no retention serves none of it.
 */
export function artifactMetricLines(retention: ArtifactRetention | undefined): string[] {
  if (!retention) return [];
  const lines: string[] = [
    '# HELP pathwatch_artifacts_deleted_total artifacts retention deleted since this process started, by kind and reason (age: over maxAge; size: oldest over maxBytes)',
    '# TYPE pathwatch_artifacts_deleted_total counter',
  ];
  for (const kind of ARTIFACT_KINDS) {
    for (const reason of ['age', 'size'] as const)
      lines.push(
        `pathwatch_artifacts_deleted_total{kind="${kind}",reason="${reason}"} ${retention.deleted[kind][reason]}`,
      );
  }
  const last = retention.last;
  if (!last) return lines;
  const gauges = [
    ['pathwatch_artifacts_bytes', 'bytes of artifacts kept, by kind, after the last retention pass', 'bytes'],
    ['pathwatch_artifacts_files', 'artifacts kept, by kind, after the last retention pass', 'files'],
  ] as const;
  for (const [name, help, field] of gauges) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const kind of ARTIFACT_KINDS) lines.push(`${name}{kind="${kind}"} ${last.kinds[kind][field]}`);
  }
  lines.push(
    '# HELP pathwatch_retention_undeletable_artifacts artifacts over their limits whose deletion failed in the last pass (tried again every pass)',
    '# TYPE pathwatch_retention_undeletable_artifacts gauge',
    `pathwatch_retention_undeletable_artifacts ${last.failed.length}`,
    '# HELP pathwatch_retention_last_pass_timestamp_seconds when the last retention pass ran (Unix time)',
    '# TYPE pathwatch_retention_last_pass_timestamp_seconds gauge',
    `pathwatch_retention_last_pass_timestamp_seconds ${last.at / 1000}`,
  );
  return lines;
}
