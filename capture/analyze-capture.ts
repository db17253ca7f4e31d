import { type DecodedPacket, type DnsMessage, decodePacket } from './packet-decoder.ts';
import { readPcap } from './pcap-reader.ts';

/** What went wrong on a flow (or in DNS), in classes a vendor or operator can act on. */
export type Verdict =
  | 'dropped_on_path'
  | 'refused'
  | 'reset_by_server'
  | 'tls_alert'
  | 'no_response'
  | 'dns_unanswered'
  | 'dns_error'
  | 'retransmissions'
  | 'reset_by_client'
  | 'ok'
  | 'no_traffic';

/** Most telling first: the capture's one-line diagnosis is the first problem in this order. */
const SEVERITY: readonly Verdict[] = [
  'dropped_on_path',
  'refused',
  'reset_by_server',
  'tls_alert',
  'no_response',
  'dns_unanswered',
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
}

export interface CaptureAnalysis {
  file?: string;
  linkType: number;
  packets: number;
  firstMs?: number;
  lastMs?: number;
  tcpFlows: TcpFlowAnalysis[];
  dns: { queries: DnsQueryAnalysis[]; unanswered: number; errors: number };
  verdict: Verdict;
  /** The one line for the alert email. */
  diagnosis: string;
  /** Every problem found, most telling first. */
  diagnoses: string[];
}

interface SideState extends TcpSideStats {
  endpoint: Endpoint;
  baseSeq?: number;
  nextSeq?: number;
}

interface FlowState {
  a: SideState;
  b: SideState;
  clientKey?: 'a' | 'b';
  firstSynUs?: number;
  firstSynAckUs?: number;
  handshakeComplete: boolean;
  firstUs: number;
  lastUs: number;
  packets: number;
  lastSpeaker?: 'a' | 'b';
  requestsBySide: { a: number; b: number };
  resets: { side: 'a' | 'b'; atUs: number; afterHandshake: boolean }[];
  tlsServerName?: string;
  tlsAlerts: { side: 'a' | 'b'; level: string | number; description: number; name: string }[];
}

const endpointText = (endpoint: Endpoint) =>
  endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;

/**
 * Builds the per-flow and DNS picture of a capture. Feed packets in capture order with
 * `add`, then `result()`. Flows are keyed by 5-tuple; a reused 5-tuple is one flow.
 */
export class CaptureAnalyzer {
  #flows = new Map<string, FlowState>();
  #queries = new Map<string, DnsQueryAnalysis>();
  #packets = 0;
  #firstUs?: number;
  #lastUs?: number;

  constructor(readonly linkType: number) {}

  add(timestampUs: number, data: Buffer): void {
    this.addDecoded(timestampUs, decodePacket(this.linkType, data));
  }

  addDecoded(timestampUs: number, packet: DecodedPacket): void {
    this.#packets += 1;
    this.#firstUs = Math.min(this.#firstUs ?? timestampUs, timestampUs);
    this.#lastUs = Math.max(this.#lastUs ?? timestampUs, timestampUs);
    if (!packet.ip) return;
    if (packet.tcp) {
      this.#tcp(timestampUs, packet);
      if (packet.tcp.dns)
        this.#dns(timestampUs, packet, packet.tcp.srcPort, packet.tcp.dstPort, packet.tcp.dns);
    } else if (packet.udp?.dns) {
      this.#dns(timestampUs, packet, packet.udp.srcPort, packet.udp.dstPort, packet.udp.dns);
    }
  }

  #tcp(timestampUs: number, packet: DecodedPacket): void {
    const ip = packet.ip!;
    const tcp = packet.tcp!;
    const src = { ip: ip.src, port: tcp.srcPort };
    const dst = { ip: ip.dst, port: tcp.dstPort };
    const srcText = endpointText(src);
    const dstText = endpointText(dst);
    const key = srcText < dstText ? `${srcText}|${dstText}` : `${dstText}|${srcText}`;
    let flow = this.#flows.get(key);
    if (!flow) {
      const [first, second] = srcText < dstText ? [src, dst] : [dst, src];
      flow = {
        a: newSide(first),
        b: newSide(second),
        handshakeComplete: false,
        firstUs: timestampUs,
        lastUs: timestampUs,
        packets: 0,
        requestsBySide: { a: 0, b: 0 },
        resets: [],
        tlsAlerts: [],
      };
      this.#flows.set(key, flow);
    }
    const sideKey: 'a' | 'b' = endpointText(flow.a.endpoint) === srcText ? 'a' : 'b';
    const side = flow[sideKey];
    flow.packets += 1;
    flow.lastUs = Math.max(flow.lastUs, timestampUs);
    side.packets += 1;
    side.bytes += tcp.payloadLength;
    const { flags } = tcp;

    if (flags.syn && !flags.ack) {
      flow.clientKey ??= sideKey;
      flow.firstSynUs ??= timestampUs;
      side.syns += 1;
    } else if (flags.syn && flags.ack) {
      flow.clientKey ??= sideKey === 'a' ? 'b' : 'a';
      flow.firstSynAckUs ??= timestampUs;
      side.syns += 1;
    } else if (flags.ack && flow.firstSynAckUs !== undefined && flow.clientKey === sideKey) {
      flow.handshakeComplete = true;
    }
    if (flags.fin) side.fins += 1;
    if (flags.rst) {
      side.rsts += 1;
      flow.resets.push({ side: sideKey, atUs: timestampUs, afterHandshake: flow.handshakeComplete });
    }
    if (tcp.window === 0 && !flags.syn && !flags.fin && !flags.rst) side.zeroWindows += 1;

    // Sequence space used by this segment; relative to the side's first sequence number.
    const length = tcp.payloadLength + (flags.syn ? 1 : 0) + (flags.fin ? 1 : 0);
    side.baseSeq ??= tcp.seq;
    const relative = (tcp.seq - side.baseSeq) >>> 0;
    let retransmitted = false;
    if (length > 0 && !flags.rst) {
      if (side.nextSeq !== undefined && relative < side.nextSeq) {
        // A keep-alive re-sends the byte before nextSeq (0 or 1 bytes): not a retransmission.
        const keepAlive = length <= 1 && relative === side.nextSeq - 1 && !flags.syn && !flags.fin;
        if (!keepAlive) {
          retransmitted = true;
          side.retransmissions += 1;
          if (tcp.payloadLength > 0) side.dataRetransmissions += 1;
        }
      }
      side.nextSeq = Math.max(side.nextSeq ?? 0, relative + length);
    }
    if (tcp.payloadLength > 0 && !retransmitted) {
      if (flow.lastSpeaker !== sideKey) flow.requestsBySide[sideKey] += 1;
      flow.lastSpeaker = sideKey;
    }
    if (tcp.tls) {
      if (tcp.tls.clientHello?.serverName) flow.tlsServerName ??= tcp.tls.clientHello.serverName;
      for (const alert of tcp.tls.alerts) flow.tlsAlerts.push({ side: sideKey, ...alert });
    }
  }

  #dns(
    timestampUs: number,
    packet: DecodedPacket,
    srcPort: number,
    dstPort: number,
    message: DnsMessage,
  ): void {
    const ip = packet.ip!;
    const question = message.questions[0];
    if (!question) return;
    const client = message.qr ? { ip: ip.dst, port: dstPort } : { ip: ip.src, port: srcPort };
    const server = message.qr ? { ip: ip.src, port: srcPort } : { ip: ip.dst, port: dstPort };
    const key = `${endpointText(client)}|${endpointText(server)}|${message.id}|${question.name.toLowerCase()}|${question.type}`;
    const atMs = timestampUs / 1000;
    let query = this.#queries.get(key);
    const firstSeen = (attempts: number) => ({
      id: message.id,
      name: question.name,
      type: question.type,
      client,
      server,
      atMs,
      attempts,
      answered: false,
      answers: [],
    });
    if (!message.qr) {
      if (query) query.attempts += 1;
      else this.#queries.set(key, firstSeen(1));
      return;
    }
    // A response whose query is before the capture started still tells the rcode.
    query ??= firstSeen(0);
    this.#queries.set(key, query);
    if (query.answered) return;
    query.answered = true;
    query.rcode = message.rcode;
    query.answers = message.answers.map((answer) => `${answer.type} ${answer.data}`);
    query.responseMs = query.attempts > 0 ? atMs - query.atMs : undefined;
  }

  result(file?: string): CaptureAnalysis {
    const tcpFlows = [...this.#flows.values()].map(flowAnalysis).sort((x, y) => x.firstMs - y.firstMs);
    const queries = [...this.#queries.values()].sort((x, y) => x.atMs - y.atMs);
    const problems: { verdict: Verdict; text: string }[] = [];
    for (const flow of tcpFlows) {
      if (flow.verdict !== 'ok') problems.push({ verdict: flow.verdict, text: flow.diagnosis });
    }
    for (const query of queries) {
      const what = `DNS query ${query.type} ${query.name} to ${endpointText(query.server)}`;
      if (!query.answered) {
        problems.push({
          verdict: 'dns_unanswered',
          text: `${what} got no answer${query.attempts > 1 ? ` (${query.attempts} attempts)` : ''}`,
        });
      } else if (query.rcode && query.rcode !== 'NOERROR') {
        problems.push({ verdict: 'dns_error', text: `${what} was answered ${query.rcode}` });
      }
    }
    problems.sort((x, y) => SEVERITY.indexOf(x.verdict) - SEVERITY.indexOf(y.verdict));
    let verdict: Verdict;
    let diagnosis: string;
    if (problems.length > 0) {
      verdict = problems[0].verdict;
      diagnosis = problems[0].text;
    } else if (tcpFlows.length > 0 || queries.length > 0) {
      verdict = 'ok';
      diagnosis =
        tcpFlows.length > 0
          ? `no problem seen: ${tcpFlows.length} TCP connection${tcpFlows.length === 1 ? '' : 's'} completed normally`
          : `no problem seen: ${queries.length} DNS quer${queries.length === 1 ? 'y' : 'ies'} answered`;
    } else {
      verdict = 'no_traffic';
      diagnosis =
        this.#packets === 0
          ? 'no packets in the capture: nothing was sent, or the capture does not see this traffic (interface, filter)'
          : `no TCP or DNS traffic among ${this.#packets} packets`;
    }
    return {
      file,
      linkType: this.linkType,
      packets: this.#packets,
      firstMs: this.#firstUs === undefined ? undefined : this.#firstUs / 1000,
      lastMs: this.#lastUs === undefined ? undefined : this.#lastUs / 1000,
      tcpFlows,
      dns: {
        queries,
        unanswered: queries.filter((query) => !query.answered).length,
        errors: queries.filter((query) => query.answered && query.rcode !== 'NOERROR').length,
      },
      verdict,
      diagnosis,
      diagnoses: problems.map((problem) => problem.text),
    };
  }
}

function newSide(endpoint: Endpoint): SideState {
  return {
    endpoint,
    packets: 0,
    bytes: 0,
    syns: 0,
    fins: 0,
    rsts: 0,
    zeroWindows: 0,
    retransmissions: 0,
    dataRetransmissions: 0,
  };
}

function sideStats(side: SideState): TcpSideStats {
  const { endpoint: _endpoint, baseSeq: _baseSeq, nextSeq: _nextSeq, ...stats } = side;
  return stats;
}

function flowAnalysis(flow: FlowState): TcpFlowAnalysis {
  // Without a SYN, the lower port is taken to be the server's (servers listen on well-known or
  // configured ports, clients use ephemeral ones).
  const clientKey = flow.clientKey ?? (flow.a.endpoint.port > flow.b.endpoint.port ? 'a' : 'b');
  const serverKey = clientKey === 'a' ? 'b' : 'a';
  const client = flow[clientKey];
  const server = flow[serverKey];
  const who = (side: 'a' | 'b') => (side === clientKey ? 'client' : 'server') as 'client' | 'server';
  const analysis: TcpFlowAnalysis = {
    client: client.endpoint,
    server: server.endpoint,
    synSeen: flow.clientKey !== undefined,
    packets: flow.packets,
    firstMs: flow.firstUs / 1000,
    lastMs: flow.lastUs / 1000,
    synsSent: client.syns,
    synRetransmissions: Math.max(0, client.syns - 1),
    synAcks: server.syns,
    handshakeComplete: flow.handshakeComplete,
    handshakeMs:
      flow.firstSynUs !== undefined && flow.firstSynAckUs !== undefined
        ? (flow.firstSynAckUs - flow.firstSynUs) / 1000
        : undefined,
    retransmissions: client.retransmissions + server.retransmissions,
    dataRetransmissions: client.dataRetransmissions + server.dataRetransmissions,
    resets: flow.resets.map((reset) => ({
      from: who(reset.side),
      atMs: reset.atUs / 1000,
      afterHandshake: reset.afterHandshake,
    })),
    finFromClient: client.fins > 0,
    finFromServer: server.fins > 0,
    zeroWindows: { client: client.zeroWindows, server: server.zeroWindows },
    bytesFromClient: client.bytes,
    bytesFromServer: server.bytes,
    requests: flow.requestsBySide[clientKey],
    tlsServerName: flow.tlsServerName,
    tlsAlerts: flow.tlsAlerts.map(({ side, ...alert }) => ({ from: who(side), ...alert })),
    fromClient: sideStats(client),
    fromServer: sideStats(server),
    verdict: 'ok',
    diagnosis: '',
  };
  const { verdict, diagnosis } = diagnoseFlow(analysis);
  analysis.verdict = verdict;
  analysis.diagnosis = diagnosis;
  return analysis;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

function diagnoseFlow(flow: TcpFlowAnalysis): { verdict: Verdict; diagnosis: string } {
  const server = endpointText(flow.server);
  const serverReset = flow.resets.find((reset) => reset.from === 'server');
  const serverAlert = flow.tlsAlerts.find(
    (alert) => alert.from === 'server' && alert.name !== 'close_notify',
  );
  if (flow.synsSent > 0 && flow.synAcks === 0) {
    if (serverReset) {
      return {
        verdict: 'refused',
        diagnosis: `server ${server} refused the connection (RST in answer to SYN): nothing listens there, or a firewall rejects it`,
      };
    }
    return {
      verdict: 'dropped_on_path',
      diagnosis: `${plural(flow.synsSent, 'SYN')} to ${server} got no answer: packets are dropped on the path`,
    };
  }
  if (serverAlert) {
    return {
      verdict: 'tls_alert',
      diagnosis: `server ${server} sent TLS alert ${serverAlert.name} (${serverAlert.level}, ${serverAlert.description})${flow.tlsServerName ? ` for ${flow.tlsServerName}` : ''}`,
    };
  }
  if (serverReset) {
    const afterHello = flow.tlsServerName !== undefined && flow.bytesFromServer === 0;
    return {
      verdict: 'reset_by_server',
      diagnosis: afterHello
        ? `server ${server} reset the connection after the TLS ClientHello (SNI ${flow.tlsServerName})`
        : `server ${server} reset the connection (RST) ${serverReset.afterHandshake ? 'after the handshake' : 'during the handshake'}${flow.bytesFromServer === 0 && flow.requests > 0 ? `: ${plural(flow.requests, 'request')} sent, no response data` : ''}`,
    };
  }
  if (flow.handshakeComplete && flow.bytesFromClient > 0 && flow.bytesFromServer === 0) {
    if (flow.fromClient.dataRetransmissions > 0) {
      return {
        verdict: 'dropped_on_path',
        diagnosis: `server ${server} accepted the connection, then ${plural(flow.fromClient.dataRetransmissions, 'retransmission')} of the request got no answer: packets are dropped on the path`,
      };
    }
    return {
      verdict: 'no_response',
      diagnosis: `server ${server} accepted the connection but never answered: ${plural(flow.requests, 'request')} sent, no response data`,
    };
  }
  if (flow.dataRetransmissions > 0) {
    return {
      verdict: 'retransmissions',
      diagnosis: `${plural(flow.dataRetransmissions, 'data retransmission')} on the connection to ${server}: packets are lost on the path`,
    };
  }
  const clientReset = flow.resets.find((reset) => reset.from === 'client');
  if (clientReset) {
    return {
      verdict: 'reset_by_client',
      diagnosis: `client ${endpointText(flow.client)} reset the connection to ${server}`,
    };
  }
  return {
    verdict: 'ok',
    diagnosis: `connection to ${server}: ${flow.bytesFromClient} bytes sent, ${flow.bytesFromServer} bytes received`,
  };
}

/** Reads a pcap file and analyses it. */
export async function analyzeCapture(file: string): Promise<CaptureAnalysis> {
  let analyzer: CaptureAnalyzer | undefined;
  const summary = await readPcap(file, (record, header) => {
    analyzer ??= new CaptureAnalyzer(header.linkType);
    analyzer.add(record.timestampUs, record.data);
    return undefined;
  });
  analyzer ??= new CaptureAnalyzer(summary.header.linkType);
  return analyzer.result(file);
}

function flowLine(flow: TcpFlowAnalysis): string {
  const parts = [
    `tcp ${endpointText(flow.client)} -> ${endpointText(flow.server)}: ${flow.packets} packets (${flow.fromClient.packets} sent, ${flow.fromServer.packets} received)`,
  ];
  if (flow.synSeen) {
    parts.push(
      flow.synAcks > 0
        ? `SYN answered in ${flow.handshakeMs?.toFixed(1)} ms${flow.synRetransmissions > 0 ? ` after ${plural(flow.synRetransmissions, 'SYN retransmission')}` : ''}`
        : `${plural(flow.synsSent, 'SYN')}, none answered`,
    );
  } else {
    parts.push('no SYN in the capture (started mid-connection)');
  }
  parts.push(`bytes ${flow.bytesFromClient} sent / ${flow.bytesFromServer} received`);
  if (flow.retransmissions > 0) parts.push(plural(flow.retransmissions, 'retransmission'));
  for (const reset of flow.resets) parts.push(`RST from ${reset.from}`);
  if (flow.finFromClient || flow.finFromServer) {
    parts.push(
      `FIN from ${[flow.finFromClient && 'client', flow.finFromServer && 'server'].filter(Boolean).join(' and ')}`,
    );
  }
  if (flow.zeroWindows.client + flow.zeroWindows.server > 0) {
    parts.push(`zero windows ${flow.zeroWindows.client} client / ${flow.zeroWindows.server} server`);
  }
  if (flow.tlsServerName) parts.push(`SNI ${flow.tlsServerName}`);
  for (const alert of flow.tlsAlerts) parts.push(`TLS alert ${alert.name} from ${alert.from}`);
  return `  ${parts.join(', ')}`;
}

function queryLine(query: DnsQueryAnalysis): string {
  const outcome = query.answered
    ? `${query.rcode}${query.answers.length > 0 ? ` ${query.answers.join(', ')}` : ''}${query.responseMs !== undefined ? ` in ${query.responseMs.toFixed(1)} ms` : ''}`
    : `no answer${query.attempts > 1 ? ` after ${query.attempts} attempts` : ''}`;
  return `  dns ${query.type} ${query.name} -> ${endpointText(query.server)} (id ${query.id}): ${outcome}`;
}

/** The analysis as text for an email or a terminal: diagnosis first, then one line per flow and query. */
export function formatAnalysis(analysis: CaptureAnalysis): string {
  const seconds =
    analysis.firstMs !== undefined && analysis.lastMs !== undefined
      ? ((analysis.lastMs - analysis.firstMs) / 1000).toFixed(3)
      : '0';
  const lines = [
    `diagnosis: ${analysis.diagnosis}`,
    `${analysis.file ? `${analysis.file}: ` : ''}${analysis.packets} packets over ${seconds} s, ${plural(analysis.tcpFlows.length, 'TCP flow')}, ${`${analysis.dns.queries.length} DNS quer${analysis.dns.queries.length === 1 ? 'y' : 'ies'}`}`,
    ...analysis.tcpFlows.map(flowLine),
    ...analysis.dns.queries.map(queryLine),
  ];
  if (analysis.diagnoses.length > 1)
    lines.push('other problems:', ...analysis.diagnoses.slice(1).map((text) => `  ${text}`));
  return lines.join('\n');
}
