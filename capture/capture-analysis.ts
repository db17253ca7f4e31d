/** The shape of a capture's analysis, shared by the analyzer, the diagnosis and its text. */
/** What went wrong on a flow (or in DNS), in classes a vendor or operator can act on. */
export type Verdict =
  | 'not_sent'
  | 'unreachable'
  | 'dropped_on_path'
  | 'dropped_at_target'
  | 'dropped'
  | 'refused'
  | 'reset_by_server'
  | 'tls_alert'
  | 'no_response'
  | 'slow_handshake'
  | 'dns_unanswered'
  | 'dns_malformed'
  | 'dns_error'
  | 'retransmissions'
  | 'reset_by_client'
  | 'ok'
  | 'no_traffic';

/** Most telling first: the capture's one-line diagnosis is the first problem in this order. */
export const SEVERITY: readonly Verdict[] = [
  'not_sent',
  'unreachable',
  'dropped_on_path',
  'dropped_at_target',
  'dropped',
  'refused',
  'reset_by_server',
  'tls_alert',
  'no_response',
  'slow_handshake',
  'dns_unanswered',
  'dns_malformed',
  'dns_error',
  'retransmissions',
  'reset_by_client',
  'ok',
  'no_traffic',
];

export interface Endpoint {
  ip: string;
  port: number;
}

export interface TcpSideStats {
  packets: number;
  /** Payload bytes, retransmissions included. */
  bytes: number;
  syns: number;
  fins: number;
  rsts: number;
  /** Segments advertising a zero receive window (SYN/FIN/RST excluded, as tshark does). */
  zeroWindows: number;
  /** Segments re-sending sequence space already sent (SYN, FIN or data). */
  retransmissions: number;
  dataRetransmissions: number;
}

export interface TcpFlowAnalysis {
  client: Endpoint;
  server: Endpoint;
  /** false when the capture starts mid-connection (client/server then guessed from the ports). */
  synSeen: boolean;
  packets: number;
  firstMs: number;
  lastMs: number;
  synsSent: number;
  synRetransmissions: number;
  synAcks: number;
  handshakeComplete: boolean;
  /** First SYN to first SYN-ACK, ms (includes the wait for retransmitted SYNs). */
  handshakeMs?: number;
  retransmissions: number;
  dataRetransmissions: number;
  resets: { from: 'client' | 'server'; atMs: number; afterHandshake: boolean }[];
  finFromClient: boolean;
  finFromServer: boolean;
  zeroWindows: { client: number; server: number };
  bytesFromClient: number;
  bytesFromServer: number;
  /** Bursts of client data each following server data or the handshake: requests, roughly. */
  requests: number;
  tlsServerName?: string;
  tlsAlerts: { from: 'client' | 'server'; level: string | number; description: number; name: string }[];
  /** ICMP "destination unreachable" answers to this flow: who sent them and why. */
  unreachable: { from: string; reason: string; routing: boolean; atMs: number }[];
  /** The run the capture is about made this flow (false: another run's flow, kept as context). */
  ownRun?: boolean;
  fromClient: TcpSideStats;
  fromServer: TcpSideStats;
  verdict: Verdict;
  diagnosis: string;
}

export interface DnsQueryAnalysis {
  id: number;
  name: string;
  type: string;
  client: Endpoint;
  server: Endpoint;
  atMs: number;
  /** Times the same query (id + question) was sent. */
  attempts: number;
  answered: boolean;
  rcode?: string;
  answers: string[];
  responseMs?: number;
  /** The answer came but does not parse (a name compression loop, records past the end). */
  malformed?: string;
  ownRun?: boolean;
}

export interface CaptureAnalysis {
  file?: string;
  linkType: number;
  packets: number;
  firstMs?: number;
  lastMs?: number;
  tcpFlows: TcpFlowAnalysis[];
  dns: { queries: DnsQueryAnalysis[]; unanswered: number; errors: number };
  /** Identical frames seen twice within a moment (`-i any` sees a packet on two interfaces): counted once. */
  duplicates: number;
  /** Packets that cannot be what they claim (IPv4 IHL below 5, a TCP data offset below 5): not decoded further. */
  malformed: { count: number; examples: string[] };
  verdict: Verdict;
  /** The one line for the alert email: about the run's own flows when the run is known. */
  diagnosis: string;
  /** Every problem found in the run's own flows, most telling first. */
  diagnoses: string[];
  /** Problems of other flows in the window (earlier or later runs): shown, not diagnosed. */
  context: string[];
  /** The run the diagnosis is about (its span, ports, timeout), when known. */
  run?: { startedAt: number; finishedAt: number; localPorts: number[]; timeoutMs?: number };
}

export const endpointText = (endpoint: Endpoint) =>
  endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;

export const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
