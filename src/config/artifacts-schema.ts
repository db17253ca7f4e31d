import { z } from 'zod';
import { secretRef } from './secret-resolver.ts';
import { byteSize, strictObject } from './zod-helpers.ts';

const MIB = 1024 ** 2;

/** The API a worker on another host delivers its artifacts to. */
const deliverToSchema = strictObject({
  url: z
    .string()
    .refine(
      (text) => {
        try {
          return ['http:', 'https:'].includes(new URL(text).protocol);
        } catch {
          return false;
        }
      },
      {
        error: (issue) =>
          `expected the API's base URL, such as "https://pathwatch.example.com", got ${JSON.stringify(issue.input)}`,
      },
    )
    .describe(
      'Base URL of the API the artifacts go to, e.g. "https://pathwatch.example.com" (a path prefix is kept). Required.',
    ),
  token: secretRef().describe(
    'A token of the `worker` role (`pathwatch token create --role worker`), as a secret reference such as "${env:PATHWATCH_UPLOAD_TOKEN}"; it may upload and read nothing. Required.',
  ),
});

/**
 * Where evidence goes when a worker does not share the API's disk. A worker with `deliverTo`
 * writes each artifact to its own `<dataDir>/artifacts` first (its spool) and uploads it to
 * the API in the background; the API keeps it under its own retention and roles.
 */
export const artifactsSchema = strictObject({
  deliverTo: deliverToSchema
    .optional()
    .describe(
      "Set on a worker on another host (its own disk): each artifact is spooled locally, uploaded to this API (`PUT /api/v1/artifacts/<key>`) with retries, and removed locally once the API has it. Default none: artifacts stay in `<dataDir>/artifacts`, shared with the API's host.",
    ),
  maxUploadSize: byteSize()
    .default(512 * MIB)
    .describe(
      "On the API: the largest artifact a worker may upload; a larger one is answered 413 and stays in the worker's spool. Default 512MiB.",
    ),
});

export type ArtifactsSettings = z.output<typeof artifactsSchema>;
export type DeliverToSettings = z.output<typeof deliverToSchema>;
