import { z } from 'zod';
import { strictObject } from '../config/zod-helpers.ts';
import { checkBaseShape } from './check-base.ts';
import type { Probe } from './probe.ts';

// Placeholder until the tls probe lands: schema branch and registry line exist so the
// registry stays the one place that maps kinds.
export const tlsCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('tls'),
});
export type TlsCheck = z.output<typeof tlsCheckSchema>;

export const tlsProbe: Probe<TlsCheck> = {
  async run() {
    return {
      status: 'error',
      phases: { total: 0 },
      peers: [],
      error: { class: 'internal', message: 'tls probe not implemented yet' },
    };
  },
};
