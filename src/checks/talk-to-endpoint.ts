import type { ProbeOutcome } from '../results/run-result.ts';
import { ProbeError } from './errors/probe-error.ts';
import type { ProbeContext } from './probe.ts';
import type { RunRecord } from './run-record.ts';
import { SocketDialogue } from './socket-dialogue.ts';

/** A check's `host`/`port`/`ipVersion` fields (see endpointShape), as parsed. */
export interface Endpoint {
  host: string;
  port: number;
  ipVersion: 'any' | 4 | 6;
}

/**
 * Dials the endpoint within this run's deadline and holds `talk` over the connection, closing
 * it whatever happens. A ProbeError (refused, timed out, a server breaking the protocol) ends
 * the run as `fail` with what was recorded so far; anything else is a bug and is thrown.
 */
export async function talkToEndpoint(
  endpoint: Endpoint,
  context: ProbeContext,
  record: RunRecord,
  talk: (dialogue: SocketDialogue) => Promise<ProbeOutcome>,
): Promise<ProbeOutcome> {
  let dialogue: SocketDialogue | undefined;
  try {
    dialogue = await SocketDialogue.open({
      host: endpoint.host,
      port: endpoint.port,
      family: endpoint.ipVersion === 'any' ? undefined : endpoint.ipVersion,
      signal: context.signal,
      timeoutMs: context.timeoutMs,
      deadline: context.deadline,
      clock: record.clock,
      peers: record.peers,
    });
    record.details.address = dialogue.target;
    return await talk(dialogue);
  } catch (error) {
    if (!(error instanceof ProbeError)) throw error;
    return record.outcome(error.runError);
  } finally {
    dialogue?.close();
  }
}
