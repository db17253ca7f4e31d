import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ArtifactRetention } from '../../artifacts/artifact-retention.ts';
import type { LoadedConfig } from '../../config/load-config.ts';
import { LATENCY_BUCKETS_MS } from '../../results/latency-histogram.ts';
import type { ResultsRecorder } from '../../results/results-recorder.ts';
import { errorResponses } from '../schemas/api-error-schema.ts';
import { artifactMetricLines } from './artifact-metrics.ts';
import type { MonitoredItem } from './checks-routes.ts';
import { metricLabel as label } from './metric-label.ts';
import { probeMetricLines } from './probe-metrics.ts';

export interface MetricsRoutesOptions {
  config: LoadedConfig;
  items: MonitoredItem[];
  recorder: ResultsRecorder;
  /** The process's retention (the API process runs it); its figures are served when set. */
  retention?: ArtifactRetention;
}

const STATE_VALUES: Record<string, number> = { UP: 1, DEGRADED: 0.5, DOWN: 0, UNKNOWN: -1 };

/** Prometheus text: state and missed slots per check × location, live workers, schedule lag this hour, artifacts and retention. */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (
  app,
  { config, items, recorder, retention },
) => {
  const schema = {
    tags: ['health'],
    summary: 'Prometheus text exposition (open unless api.openRoutes leaves out "metrics")',
    security: [],
    response: {
      200: {
        description: 'Prometheus text format 0.0.4',
        content: { 'text/plain': { schema: z.string() } },
      },
      ...errorResponses({ 400: true, 401: true, 403: true }),
    },
  };
  app.get('/metrics', { schema }, async (_request, reply) => {
    const lines: string[] = [
      '# HELP pathwatch_check_state 1 up, 0.5 degraded, 0 down, -1 unknown',
      '# TYPE pathwatch_check_state gauge',
    ];
    for (const item of items) {
      const states = await recorder.states.forCheck(item.id, item.locations);
      for (const [location, state] of Object.entries(states)) {
        lines.push(
          `pathwatch_check_state{check="${label(item.id)}",location="${label(location)}"} ${STATE_VALUES[state.state]}`,
        );
      }
    }
    // Two counters, not one gauge: the alert an operator wants is "slots are being missed"
    // (increase(pathwatch_missed_slots_total[10m]) > 0), raised as soon as the sweep counts
    // them; a counter must never go down or rate()/increase() read a reset. A run that turns
    // up after its slot was counted (rare: a job that sat unseen) is counted in
    // pathwatch_late_slots_total, so missed − late is the slots that still have no run, and
    // the check's history no longer lists that slot.
    const missed = await Promise.all(items.map((item) => recorder.missedSlots.totals(item.id)));
    const late = await Promise.all(items.map((item) => recorder.missedSlots.lateTotals(item.id)));
    const counters = [
      {
        name: 'pathwatch_missed_slots_total',
        help: 'schedule slots that passed with no run (worker, queue or Redis down); never decreases',
        totals: missed,
      },
      {
        name: 'pathwatch_late_slots_total',
        help: 'slots counted in pathwatch_missed_slots_total whose run arrived afterwards',
        totals: late,
      },
    ];
    for (const { name, help, totals } of counters) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [index, item] of items.entries()) {
        for (const location of item.locations) {
          lines.push(
            `${name}{check="${label(item.id)}",location="${label(location)}"} ${totals[index][location] ?? 0}`,
          );
        }
      }
    }
    lines.push(
      '# HELP pathwatch_location_live_workers workers that reported a heartbeat in the last 15 s',
      '# TYPE pathwatch_location_live_workers gauge',
    );
    for (const location of config.locations) {
      lines.push(
        `pathwatch_location_live_workers{location="${label(location)}"} ${await recorder.workers.liveWorkers(location)}`,
      );
    }
    lines.push(
      "# HELP pathwatch_schedule_lag_seconds time from a run's scheduled start to its actual start, this hour",
      '# TYPE pathwatch_schedule_lag_seconds histogram',
    );
    for (const location of config.locations) {
      const counts = await recorder.rollups.lagBuckets(location);
      let cumulative = 0;
      for (const [index, bound] of LATENCY_BUCKETS_MS.entries()) {
        cumulative += counts[index];
        const le = Number.isFinite(bound) ? String(bound / 1000) : '+Inf';
        lines.push(
          `pathwatch_schedule_lag_seconds_bucket{location="${label(location)}",le="${le}"} ${cumulative}`,
        );
      }
      lines.push(`pathwatch_schedule_lag_seconds_count{location="${label(location)}"} ${cumulative}`);
    }
    lines.push(...(await probeMetricLines(items, recorder)));
    lines.push(...artifactMetricLines(retention));
    return reply.header('content-type', 'text/plain; version=0.0.4').send(`${lines.join('\n')}\n`);
  });
};
