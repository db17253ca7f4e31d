import { hostname } from 'node:os';

/**
 * This host's id in queue names and run records: where a run ran is where its packets
 * were captured, so requests for more of a capture go to this host's queue.
 * PATHWATCH_HOST_ID overrides it (containers often get random host names).
 */
export const HOST_ID = (process.env.PATHWATCH_HOST_ID ?? hostname()).replace(/[^A-Za-z0-9_.-]/g, '-');

export function captureQueueName(hostId: string): string {
  return `capture-${hostId}`;
}
