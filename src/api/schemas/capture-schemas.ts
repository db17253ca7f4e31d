import { z } from 'zod';

/** What GET /api/v1/captures answers (list-captures.ts). */
export const capturesListSchema = z.strictObject({
  captures: z.array(
    z.strictObject({
      type: z.enum(['slice', 'collection']),
      check: z.string().nullable(),
      location: z.string().nullable(),
      runId: z.string().nullable(),
      collection: z.string().nullable(),
      time: z.string().describe("The run's start (a slice) or the window's end (a collection), ISO 8601 UTC"),
      bytes: z.number().nullable(),
      name: z.string(),
      url: z.string().describe('Where to download it (Range works there), relative to the API'),
      analysisUrl: z.string().nullable(),
    }),
  ),
  more: z.boolean().describe('More captures matched than `limit`'),
});

/** The answer to a capture request (POST /api/v1/runs/:runId/capture). */
export const captureRequestedSchema = z.strictObject({
  runId: z.string(),
  host: z.string(),
  jobId: z.string(),
  message: z.string(),
});
