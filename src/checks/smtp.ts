import { z } from 'zod';
import { strictObject } from '../config/zod-helpers.ts';
import { checkBaseShape } from './check-base.ts';
import type { Probe } from './probe.ts';

// Placeholder until the smtp probe lands: schema branch and registry line exist so the
// registry stays the one place that maps kinds.
export const smtpCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('smtp'),
});
export type SmtpCheck = z.output<typeof smtpCheckSchema>;

export const smtpProbe: Probe<SmtpCheck> = {
  async run() {
    return {
      status: 'error',
      phases: { total: 0 },
      peers: [],
      error: { class: 'internal', message: 'smtp probe not implemented yet' },
    };
  },
};
