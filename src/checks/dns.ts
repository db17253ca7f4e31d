import { z } from 'zod';
import { strictObject } from '../config/zod-helpers.ts';
import { checkBaseShape } from './check-base.ts';
import type { Probe } from './probe.ts';

// Placeholder until the dns probe lands: schema branch and registry line exist so the
// registry stays the one place that maps kinds.
export const dnsCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('dns'),
});
export type DnsCheck = z.output<typeof dnsCheckSchema>;

export const dnsProbe: Probe<DnsCheck> = {
  async run() {
    return {
      status: 'error',
      phases: { total: 0 },
      peers: [],
      error: { class: 'internal', message: 'dns probe not implemented yet' },
    };
  },
};
