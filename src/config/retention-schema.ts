import type { z } from 'zod';
import { byteSize, duration, strictObject } from './zod-helpers.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const MIB = 1024 ** 2;
const GIB = 1024 ** 3;

/**
 * One kind's limits: an age past which its artifacts go, and a total size past which the
 * oldest go. `what` is the kind as a sentence names it mid-way ("HAR files", "screenshots").
 */
function kindLimits(what: string, maxAgeDays: number, maxBytes: number, why: string) {
  const sentenceStart = what[0].toUpperCase() + what.slice(1);
  const shownSize = maxBytes % GIB === 0 ? `${maxBytes / GIB}GiB` : `${maxBytes / MIB}MiB`;
  return strictObject({
    maxAge: duration({ min: MINUTE_MS, max: 400 * DAY_MS })
      .default(maxAgeDays * DAY_MS)
      .describe(`${sentenceStart} older than this are deleted (1m to 400d). ${why} Default ${maxAgeDays}d.`),
    maxBytes: byteSize()
      .default(maxBytes)
      .describe(
        `Above this total size of ${what}, the oldest are deleted until it fits. Default ${shownSize}.`,
      ),
  })
    .prefault({})
    .describe(`Limits for ${what}.`);
}

/**
 * How long evidence is kept, per kind. Captures and HAR hold what customers' sessions look
 * like on the wire (addresses, names, page content), so a payment company keeps them as
 * short as an investigation needs; bundles are what was handed to a vendor, and tickets
 * stay open for weeks.
 */
export const retentionSchema = strictObject({
  every: duration({ min: MINUTE_MS, max: DAY_MS })
    .default(10 * MINUTE_MS)
    .describe(
      'How often a retention pass runs, in the API process (it owns the artifact store). Default 10m.',
    ),
  captures: kindLimits(
    'capture slices, periodic collections and their analyses',
    7,
    4 * GIB,
    'They hold customer traffic (addresses, names, headers): a week covers an incident and its follow-up; a collection whose `keep` is longer is still cut here.',
  ),
  traces: kindLimits(
    'Playwright traces',
    14,
    2 * GIB,
    "They hold DOM snapshots of the pages a journey saw: kept as long as the run's record (`keepRuns`).",
  ),
  screenshots: kindLimits(
    'screenshots',
    14,
    1 * GIB,
    "Kept as long as the run's record (`keepRuns`), which links to them.",
  ),
  har: kindLimits(
    'HAR files',
    14,
    1 * GIB,
    "They hold every request and response of a journey (secrets masked): kept as long as the run's record (`keepRuns`).",
  ),
  bundles: kindLimits(
    'escalation bundles',
    30,
    2 * GIB,
    "They are what was handed to a vendor, and a vendor's ticket stays open for weeks.",
  ),
  other: kindLimits(
    'other artifacts',
    14,
    256 * MIB,
    'Anything of no kind above (a kind added later): never kept longer than the runs it belongs to.',
  ),
});

/** The parsed block: ms and bytes, every kind filled in. */
export type RetentionSettings = z.output<typeof retentionSchema>;
