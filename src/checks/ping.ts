import { z } from 'zod';
import { strictObject } from '../config/zod-helpers.ts';
import { checkBaseShape } from './check-base.ts';
import type { Probe } from './probe.ts';

// Placeholder until the ping probe lands: schema branch and registry line exist so the
// registry stays the one place that maps kinds.
export const pingCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('ping'),
});
export type PingCheck = z.output<typeof pingCheckSchema>;

export const pingProbe: Probe<PingCheck> = {
  async run() {
    return {
      status: 'error',
      phases: { total: 0 },
      peers: [],
      error: { class: 'internal', message: 'ping probe not implemented yet' },
    };
  },
};
