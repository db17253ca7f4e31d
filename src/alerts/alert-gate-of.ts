import type { Redis } from 'ioredis';
import type { LoadedConfig } from '../config/load-config.ts';
import type { ResultsRecorder } from '../results/results-recorder.ts';
import { AlertGate, type MaintenanceCover } from './alert-gate.ts';
import type { AlertRouting } from './alert-routing.ts';
import { StormWindow } from './storm-window.ts';

/**
 * The gate the alert worker asks, wired to a recorder the one way: the verdict judged over
 * the locations each item runs at, the storm window from `alerting.storm`.
 */
export function alertGateOf(options: {
  recorder: ResultsRecorder;
  config: LoadedConfig;
  routing: AlertRouting;
  redis: Redis;
  prefix: string;
  maintenance?: MaintenanceCover;
}): AlertGate {
  const { recorder, routing } = options;
  return new AlertGate({
    incidents: recorder.incidents,
    judge: async (checkId) => {
      const item = routing.item(checkId);
      return item ? recorder.verdict(checkId, item.locations) : undefined;
    },
    states: recorder.states,
    statuses: recorder.alerts,
    config: options.config,
    storm: new StormWindow(options.redis, options.prefix, routing.storm.windowMs, routing.storm.threshold),
    maintenance: options.maintenance,
  });
}
