import { z } from 'zod';

/** What GET /api/v1/locations answers (locations-routes.ts). */
export const locationsListSchema = z.strictObject({
  locations: z.array(
    z.strictObject({
      id: z.string(),
      description: z.string().optional(),
      side: z.enum(['inside', 'outside']),
      controlCheck: z.string().optional(),
      liveWorkers: z.number().int(),
      lastSeen: z.number().optional().describe('The newest heartbeat of any worker here (epoch ms)'),
      workers: z.array(
        z.strictObject({
          id: z.string(),
          lastSeen: z.number(),
          status: z
            .unknown()
            .optional()
            .describe("What the worker last reported, e.g. its capture ring's health"),
        }),
      ),
    }),
  ),
});
