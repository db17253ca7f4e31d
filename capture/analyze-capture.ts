import { type DecodedPacket, type DnsMessage, decodePacket, type IcmpUnreachable } from './packet-decoder.ts';
import { readPcap } from './pcap-reader.ts';
import type { RunScope } from './run-scope.ts';

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
const SEVERITY: readonly Verdict[] = [
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

/** Identical frames within this span are one packet seen twice (`-i any`), not a retransmission. */
const DUPLICATE_WINDOW_US = 2_000;
/** Clock slack around a run's span when telling its flows by time (ms). */
const SPAN_SLACK_MS = 20;

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
  unreachable: { from: string; reason: string; routing: boolean; atMs: number }[];
}

const endpointText = (endpoint: Endpoint) =>
  endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;

function flowKey(src: Endpoint, dst: Endpoint): string {
  const srcText = endpointText(src);
  const dstText = endpointText(dst);
  return srcText < dstText ? `${srcText}|${dstText}` : `${dstText}|${srcText}`;
}

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
  #duplicates = 0;
  /** Network-layer bytes of the frames of the last moment, to drop a frame seen twice. */
  #recent = new Map<string, number>();
  #malformed = { count: 0, examples: [] as string[] };
  #pendingUnreachable: { key: string; from: string; atUs: number; unreachable: IcmpUnreachable }[] = [];

  constructor(readonly linkType: number) {}

  add(timestampUs: number, data: Buffer): void {
    const packet = decodePacket(this.linkType, data);
    if (this.#isDuplicate(timestampUs, data, packet)) return;
    this.addDecoded(timestampUs, packet);
  }

  /**
   * `-i any` hands over a packet once per interface it crosses (on `lo`: out and in) with
   * different link headers; counted twice, a refused SYN's RST pairs look like retransmissions
   * and one SYN like several. Same network-layer bytes within 2 ms is one packet: a real
   * retransmission is at least 200 ms later and differs in IP id or TCP timestamp anyway.
   */
  #isDuplicate(timestampUs: number, data: Buffer, packet: DecodedPacket): boolean {
    if (packet.networkOffset === undefined || !packet.ip) return false;
    for (const [key, at] of this.#recent) {
      if (timestampUs - at <= DUPLICATE_WINDOW_US) break;
      this.#recent.delete(key);
    }
    const key = data.toString('latin1', packet.networkOffset);
    const seen = this.#recent.get(key);
    if (seen !== undefined && Math.abs(timestampUs - seen) <= DUPLICATE_WINDOW_US) {
      this.#duplicates += 1;
      return true;
    }
    this.#recent.delete(key);
    this.#recent.set(key, timestampUs);
    return false;
  }

  addDecoded(timestampUs: number, packet: DecodedPacket): void {
    this.#packets += 1;
    this.#firstUs = Math.min(this.#firstUs ?? timestampUs, timestampUs);
    this.#lastUs = Math.max(this.#lastUs ?? timestampUs, timestampUs);
    if (packet.malformed) {
      this.#malformed.count += 1;
      if (this.#malformed.examples.length < 5) this.#malformed.examples.push(packet.malformed);
    }
    if (!packet.ip) return;
    if (packet.unreachable) {
      const { original } = packet.unreachable;
      if (original.protocol === 6 && original.srcPort !== undefined && original.dstPort !== undefined) {
        this.#pendingUnreachable.push({
          key: flowKey(
            { ip: original.src, port: original.srcPort },
            { ip: original.dst, port: original.dstPort },
          ),
          from: packet.ip.src,
          atUs: timestampUs,
          unreachable: packet.unreachable,
        });
      }
      return;
    }
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
    const key = flowKey(src, dst);
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
        unreachable: [],
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
    if (message.malformed && message.qr) {
      this.#malformedAnswer(
        timestampUs,
        { ip: ip.dst, port: dstPort },
        { ip: ip.src, port: srcPort },
        message,
      );
      return;
    }
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

  /** A reply that does not parse answers the query with the same endpoints and id. */
  #malformedAnswer(timestampUs: number, client: Endpoint, server: Endpoint, message: DnsMessage): void {
    const prefix = `${endpointText(client)}|${endpointText(server)}|${message.id}|`;
    const atMs = timestampUs / 1000;
    let query = [...this.#queries.entries()].find(([key]) => key.startsWith(prefix))?.[1];
    if (!query) {
      query = {
        id: message.id,
        name: '?',
        type: '?',
        client,
        server,
        atMs,
        attempts: 0,
        answered: false,
        answers: [],
      };
      this.#queries.set(`${prefix}?|?`, query);
    }
    if (query.answered) return;
    query.answered = true;
    query.rcode = message.rcode;
    query.malformed = message.malformed;
    query.responseMs = query.attempts > 0 ? atMs - query.atMs : undefined;
  }

  /**
   * The picture of the capture. With `scope` (the run the slice is about) only the run's own
   * flows and queries are diagnosed; the other flows in the window are listed as context.
   */
  result(file?: string, scope?: RunScope): CaptureAnalysis {
    const unreachableByFlow = new Map<string, FlowState['unreachable']>();
    for (const pending of this.#pendingUnreachable) {
      const list = unreachableByFlow.get(pending.key) ?? [];
      list.push({
        from: pending.from,
        reason: pending.unreachable.reason,
        routing: pending.unreachable.routing,
        atMs: pending.atUs / 1000,
      });
      unreachableByFlow.set(pending.key, list);
    }
    const tcpFlows = [...this.#flows.entries()]
      .map(([key, flow]) => flowAnalysis({ ...flow, unreachable: unreachableByFlow.get(key) ?? [] }, scope))
      .sort((x, y) => x.firstMs - y.firstMs);
    const queries = [...this.#queries.values()].sort((x, y) => x.atMs - y.atMs);
    if (scope) markOwnRun(tcpFlows, queries, scope);
    const own = <T extends { ownRun?: boolean }>(item: T) => !scope || item.ownRun === true;
    const ownFlows = tcpFlows.filter(own);
    const ownQueries = queries.filter(own);
    const problems = problemsOf(ownFlows, ownQueries);
    const context = problemsOf(
      tcpFlows.filter((flow) => !own(flow)),
      queries.filter((query) => !own(query)),
    ).map((problem) => `another run's flow: ${problem.text}`);
    let verdict: Verdict;
    let diagnosis: string;
    const sentNothing = scope ? notSent(scope, ownFlows, ownQueries, this.#packets) : undefined;
    if (sentNothing) {
      verdict = sentNothing.verdict;
      diagnosis = sentNothing.diagnosis;
    } else if (problems.length > 0) {
      verdict = problems[0].verdict;
      diagnosis = problems[0].text;
    } else if (ownFlows.length > 0 || ownQueries.length > 0) {
      verdict = 'ok';
      const runs = scope ? " of this run's" : '';
      diagnosis =
        ownFlows.length > 0
          ? `no problem seen: ${ownFlows.length} TCP connection${ownFlows.length === 1 ? '' : 's'}${runs} completed normally`
          : `no problem seen: ${ownQueries.length} DNS quer${ownQueries.length === 1 ? 'y' : 'ies'}${runs} answered`;
    } else {
      verdict = 'no_traffic';
      diagnosis = scope
        ? `no packet of this run in the capture (${this.#packets} packets of other traffic in the window)`
        : this.#packets === 0
          ? 'no packets in the capture: nothing was sent, or the capture does not see this traffic (interface, filter)'
          : `no TCP or DNS traffic among ${this.#packets} packets`;
    }
    if (this.#malformed.count > 0 && (verdict === 'ok' || verdict === 'no_traffic')) {
      diagnosis += `; ${plural(this.#malformed.count, 'malformed packet')} not decoded (${this.#malformed.examples[0]})`;
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
      duplicates: this.#duplicates,
      malformed: { count: this.#malformed.count, examples: [...this.#malformed.examples] },
      verdict,
      diagnosis,
      diagnoses: problems.map((problem) => problem.text),
      context,
      run: scope
        ? {
            startedAt: scope.startedAt,
            finishedAt: scope.finishedAt,
            localPorts: scope.localPorts,
            timeoutMs: scope.timeoutMs,
          }
        : undefined,
    };
  }
}

function problemsOf(
  flows: TcpFlowAnalysis[],
  queries: DnsQueryAnalysis[],
): { verdict: Verdict; text: string }[] {
  const problems: { verdict: Verdict; text: string }[] = [];
  for (const flow of flows) {
    if (flow.verdict !== 'ok') problems.push({ verdict: flow.verdict, text: flow.diagnosis });
  }
  for (const query of queries) {
    const what = `DNS query ${query.type} ${query.name} to ${endpointText(query.server)}`;
    if (!query.answered) {
      problems.push({
        verdict: 'dns_unanswered',
        text: `${what} got no answer${query.attempts > 1 ? ` (${query.attempts} attempts)` : ''}`,
      });
    } else if (query.malformed) {
      problems.push({ verdict: 'dns_malformed', text: `${what} was answered with a ${query.malformed}` });
    } else if (query.rcode && query.rcode !== 'NOERROR') {
      problems.push({ verdict: 'dns_error', text: `${what} was answered ${query.rcode}` });
    }
  }
  return problems.sort((x, y) => SEVERITY.indexOf(x.verdict) - SEVERITY.indexOf(y.verdict));
}

/**
 * Marks the run's own flows: by the local ports the probe recorded when any of them is in
 * the capture, else by the run's time span (a flow or query that began while the run ran).
 * Runs of one check at one location never overlap, so the span tells them apart.
 */
function markOwnRun(flows: TcpFlowAnalysis[], queries: DnsQueryAnalysis[], scope: RunScope): void {
  const inSpan = (ms: number) =>
    ms >= scope.startedAt - SPAN_SLACK_MS && ms <= scope.finishedAt + SPAN_SLACK_MS;
  const ports = new Set(scope.localPorts);
  const byPort = flows.some((flow) => ports.has(flow.client.port));
  for (const flow of flows) flow.ownRun = byPort ? ports.has(flow.client.port) : inSpan(flow.firstMs);
  for (const query of queries) query.ownRun = inSpan(query.atMs);
}

const CONNECT_ERRORS = new Set(['refused', 'unreachable', 'connect_timeout']);

/**
 * The probe saw a connect error, yet none of the run's packets is on the wire: they never
 * left this host (an OUTPUT firewall rule, a missing route). Blaming the path or the
 * target would be wrong; the capture shows what it can only when other traffic proves the
 * capture sees this interface.
 */
function notSent(
  scope: RunScope,
  flows: TcpFlowAnalysis[],
  queries: DnsQueryAnalysis[],
  packets: number,
): { verdict: Verdict; diagnosis: string } | undefined {
  if (!scope.error || !CONNECT_ERRORS.has(scope.error.class) || flows.length > 0) return undefined;
  const saw = `the probe saw "${scope.error.message}"`;
  const proof =
    packets > 0 || queries.length > 0
      ? 'though the capture holds other traffic of the window'
      : 'and the capture holds nothing else (if the capture does not see this interface, it cannot tell)';
  const route =
    scope.error.class === 'unreachable'
      ? 'this host has no route to the target (check its routing table), or a local firewall rejects it'
      : 'a local firewall (OUTPUT rule) or route stops it';
  return {
    verdict: 'not_sent',
    diagnosis: `the probe host did not send: no packet of this run left the host, ${saw} ${proof}: ${route}`,
  };
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

function flowAnalysis(flow: FlowState, scope?: RunScope): TcpFlowAnalysis {
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
    unreachable: flow.unreachable,
    fromClient: sideStats(client),
    fromServer: sideStats(server),
    verdict: 'ok',
    diagnosis: '',
  };
  const { verdict, diagnosis } = diagnoseFlow(analysis, scope);
  analysis.verdict = verdict;
  analysis.diagnosis = diagnosis;
  return analysis;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/**
 * Where unanswered packets are lost. One vantage point cannot tell a path that drops them
 * from a target that drops them; the other locations' runs of the same slot can: failing
 * from everywhere alike is the target (the verdict says `service`), while another location
 * that gets through puts the loss on this location's path. Without them (one location, a
 * run-now, `pathwatch analyze` on a file, or their runs not in yet) nobody is named.
 */
function lostWhere(scope: RunScope | undefined): { verdict: Verdict; text: string } {
  if (scope?.elsewhere === 'all-failing')
    return {
      verdict: 'dropped_at_target',
      text: 'every location fails alike, so the target (or its own firewall) drops them, not a path',
    };
  if (scope?.elsewhere === 'others-passing')
    return {
      verdict: 'dropped_on_path',
      text: 'packets are dropped on the path from this location (other locations reach the target)',
    };
  return {
    verdict: 'dropped',
    text: "packets are lost on the way or dropped by the target (no other location's run of this slot to tell which)",
  };
}

function diagnoseFlow(flow: TcpFlowAnalysis, scope?: RunScope): { verdict: Verdict; diagnosis: string } {
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
    const icmp = flow.unreachable[0];
    if (icmp?.routing) {
      return {
        verdict: 'unreachable',
        diagnosis: `${icmp.from} answered the SYN to ${server} with ICMP ${icmp.reason}: no route to the target beyond ${icmp.from} (check the routing on the path)`,
      };
    }
    if (icmp) {
      const byTarget = icmp.from === flow.server.ip;
      return {
        verdict: 'refused',
        diagnosis: `${byTarget ? `server ${server}` : `${icmp.from}, on the way to ${server},`} refused the connection (ICMP ${icmp.reason} in answer to SYN): a firewall rejects it${byTarget ? ', or nothing listens there' : ''}`,
      };
    }
    const lost = lostWhere(scope);
    return {
      verdict: lost.verdict,
      diagnosis: `${plural(flow.synsSent, 'SYN')} to ${server} got no answer: ${lost.text}`,
    };
  }
  const timeout = scope?.timeoutMs;
  const clientResetLate = flow.resets.find((reset) => reset.from === 'client' && !reset.afterHandshake);
  if (
    flow.synAcks > 0 &&
    flow.handshakeMs !== undefined &&
    !flow.handshakeComplete &&
    ((timeout !== undefined && flow.handshakeMs > timeout) || clientResetLate)
  ) {
    // The SYN-ACK came after the client had given up: its kernel answers it with a RST.
    // That RST is the client's socket being gone, not a fault: the handshake was slow.
    const answered = `SYN answered in ${Math.round(flow.handshakeMs)} ms`;
    return {
      verdict: 'slow_handshake',
      diagnosis: `server ${server} accepted too late: ${answered}, ${timeout !== undefined ? `after the ${timeout} ms timeout` : 'after the client had given up'}${flow.synRetransmissions > 0 ? ` (${plural(flow.synRetransmissions, 'SYN retransmission')})` : ''}`,
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
      const lost = lostWhere(scope);
      return {
        verdict: lost.verdict,
        diagnosis: `server ${server} accepted the connection, then ${plural(flow.fromClient.dataRetransmissions, 'retransmission')} of the request got no answer: ${lost.text}`,
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

/** Reads a pcap file and analyses it; with `scope`, diagnoses that run's own flows. */
export async function analyzeCapture(file: string, scope?: RunScope): Promise<CaptureAnalysis> {
  let analyzer: CaptureAnalyzer | undefined;
  const summary = await readPcap(file, (record, header) => {
    analyzer ??= new CaptureAnalyzer(header.linkType);
    analyzer.add(record.timestampUs, record.data);
    return undefined;
  });
  analyzer ??= new CaptureAnalyzer(summary.header.linkType);
  return analyzer.result(file, scope);
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
  for (const icmp of flow.unreachable) parts.push(`ICMP ${icmp.reason} from ${icmp.from}`);
  if (flow.ownRun === false) parts.push("another run's flow");
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
  if (analysis.context.length > 0)
    lines.push('in the window, not this run:', ...analysis.context.map((text) => `  ${text}`));
  if (analysis.duplicates > 0) lines.push(`${plural(analysis.duplicates, 'duplicate frame')} counted once`);
  if (analysis.malformed.count > 0)
    lines.push(
      `${plural(analysis.malformed.count, 'malformed packet')} not decoded: ${analysis.malformed.examples.join('; ')}`,
    );
  return lines.join('\n');
}
