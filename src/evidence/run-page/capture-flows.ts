import { z } from 'zod';

/**
 * The parts of a stored capture analysis (`<slice>-analysis.json`, written by the capture
 * agent) that the run page shows as its flow table. Read loosely: a field the page does not
 * show may change without breaking it, and an analysis that does not parse shows no table.
 */
const endpoint = z.object({ ip: z.string(), port: z.number() });
const flow = z.object({
  client: endpoint,
  server: endpoint,
  packets: z.number(),
  fromClient: z.object({ packets: z.number() }),
  fromServer: z.object({ packets: z.number() }),
  synSeen: z.boolean(),
  synsSent: z.number(),
  synAcks: z.number(),
  handshakeMs: z.number().optional(),
  bytesFromClient: z.number(),
  bytesFromServer: z.number(),
  retransmissions: z.number(),
  resets: z.array(z.object({ from: z.string() })),
  ownRun: z.boolean().optional(),
  diagnosis: z.string(),
});
const query = z.object({
  type: z.string(),
  name: z.string(),
  server: endpoint,
  answered: z.boolean(),
  rcode: z.string().optional(),
  answers: z.array(z.string()),
  responseMs: z.number().optional(),
});
const analysis = z.object({
  diagnosis: z.string(),
  tcpFlows: z.array(flow),
  dns: z.object({ queries: z.array(query) }),
});

export type CaptureFlows = z.infer<typeof analysis>;
export type TcpFlowRow = z.infer<typeof flow>;
export type DnsQueryRow = z.infer<typeof query>;

/** The analysis in `json`, or undefined when it is not one. */
export function parseCaptureFlows(json: string): CaptureFlows | undefined {
  try {
    const parsed = analysis.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** `10.0.0.5:443`, or `[2001:db8::1]:443`. */
export function endpointText(point: { ip: string; port: number }): string {
  return point.ip.includes(':') ? `[${point.ip}]:${point.port}` : `${point.ip}:${point.port}`;
}
