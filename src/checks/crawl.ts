import { z } from 'zod';
import { strictObject } from '../config/zod-helpers.ts';
import { checkBaseShape } from './check-base.ts';
import type { Probe } from './probe.ts';

// Placeholder until the crawl probe lands: schema branch and registry line exist so the
// registry stays the one place that maps kinds.
export const crawlCheckSchema = strictObject({
  ...checkBaseShape,
  kind: z.literal('crawl'),
});
export type CrawlCheck = z.output<typeof crawlCheckSchema>;

export const crawlProbe: Probe<CrawlCheck> = {
  async run() {
    return {
      status: 'error',
      phases: { total: 0 },
      peers: [],
      error: { class: 'internal', message: 'crawl probe not implemented yet' },
    };
  },
};
