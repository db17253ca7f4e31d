import { isIP } from 'node:net';
import { z } from 'zod';
import { duration, expected, identifier, strictObject } from './zod-helpers.ts';

const DAY_MS = 86_400_000;

const portSchema = z
  .number({ error: expected('a port number') })
  .int()
  .min(1, { error: (issue) => `port must be 1-65535, got ${JSON.stringify(issue.input)}` })
  .max(65_535, { error: (issue) => `port must be 1-65535, got ${JSON.stringify(issue.input)}` });

const peerFilterSchema = strictObject({
  ip: z
    .string({ error: expected('an IPv4 or IPv6 address') })
    .refine((text) => isIP(text) !== 0, {
      error: (issue) => `expected an IPv4 or IPv6 address, got ${JSON.stringify(issue.input)}`,
    })
    .describe('IPv4 or IPv6 address whose traffic is kept. Required.'),
  port: portSchema
    .optional()
    .describe('Only traffic to or from this port of the address. Default every port.'),
});

/**
 * One scheduled collection: every `every`, the last `window` of the ring, cut to the filter,
 * stored as `captures/<id>/<time>.pcap` with its analysis, kept for `keep`.
 *
 * The filter is not a tcpdump expression (slices are cut by pathwatch, not by tcpdump): a
 * packet is kept when it is to or from one of `peers` (an address, or an address and port),
 * or on one of `ports` (either side), or is DNS with `includeDns`. Without `peers` and
 * `ports` the whole window is kept.
 */
export const periodicCollectionSchema = strictObject({
  id: identifier('collection').describe(
    'Names the collection and its artifacts (`captures/<id>/<time>.pcap`); unique. Required.',
  ),
  every: duration({ min: 60_000, max: DAY_MS }).describe('How often a slice is saved (1m to 1d). Required.'),
  window: duration({ min: 1000, max: DAY_MS }).describe(
    'How much of the ring, back from now, each slice holds (1s to 1d). Required.',
  ),
  peers: z
    .array(peerFilterSchema)
    .min(1)
    .optional()
    .describe('Keep packets to or from these addresses (or address and port). Default: no peer filter.'),
  ports: z
    .array(portSchema)
    .min(1)
    .optional()
    .describe('Keep packets on these ports, either side. Default: no port filter.'),
  includeDns: z.boolean().default(false).describe('Also keep every DNS packet. Default false.'),
  keep: duration({ min: 60_000 })
    .default(7 * DAY_MS)
    .describe("How long this collection's artifacts are kept. Default 7d."),
});

/** A list of collections whose ids are unique (an id names its artifacts' folder). */
export const periodicCollectionsSchema = z.array(periodicCollectionSchema).superRefine((entries, ctx) => {
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    if (seen.has(entry.id))
      ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate collection id "${entry.id}"` });
    seen.add(entry.id);
  });
});

export type PeriodicCollectionInput = z.input<typeof periodicCollectionSchema>;
export type PeriodicCollection = z.output<typeof periodicCollectionSchema>;
