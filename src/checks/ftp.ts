import { z } from 'zod';
import { strictObject } from '../config/zod-helpers.ts';
import { checkBaseShape } from './check-base.ts';
import type { Probe } from './probe.ts';

// Placeholder until the ftp probe lands: schema branch and registry line exist so the
// registry stays the one place that maps kinds.
export const ftpCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('ftp'),
});
export type FtpCheck = z.output<typeof ftpCheckSchema>;

export const ftpProbe: Probe<FtpCheck> = {
  async run() {
    return {
      status: 'error',
      phases: { total: 0 },
      peers: [],
      error: { class: 'internal', message: 'ftp probe not implemented yet' },
    };
  },
};
