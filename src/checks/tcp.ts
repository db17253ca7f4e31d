import { z } from 'zod';
import { strictObject } from '../config/zod-helpers.ts';
import { checkBaseShape } from './check-base.ts';
import type { Probe } from './probe.ts';

// Placeholder until the tcp probe lands: schema branch and registry line exist so the
// registry stays the one place that maps kinds.
export const tcpCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('tcp'),
});
export type TcpCheck = z.output<typeof tcpCheckSchema>;

export const tcpProbe: Probe<TcpCheck> = {
  async run() {
    return {
      status: 'error',
      phases: { total: 0 },
      peers: [],
      error: { class: 'internal', message: 'tcp probe not implemented yet' },
    };
  },
};
