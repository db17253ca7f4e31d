import {
  type CaptureAnalysis,
  type DnsQueryAnalysis,
  type Endpoint,
  endpointText,
  plural,
  type TcpFlowAnalysis,
  type TcpSideStats,
  type Verdict,
} from './capture-analysis.ts';
import { diagnoseFlow, notSent, problemsOf } from './diagnose-flow.ts';
import { type DecodedPacket, type DnsMessage, decodePacket, type IcmpUnreachable } from './packet-decoder.ts';
import type { RunScope } from './run-scope.ts';

/** Identical frames within this span are one packet seen twice (`-i any`), not a retransmission. */
const DUPLICATE_WINDOW_US = 2_000;
/** Clock slack after a run's span when telling its flows by time (ms): its last packets may trail it. */
const SPAN_SLACK_MS = 20;
/**
 * Slack before a run's start (ms): only the rounding of its start to the millisecond. A flow
 * that began earlier is another run's, such as another check's at the same location a few
 * ms before: with 20 ms here that flow was read as this run's (capture-diagnosis failed 2 of 3).
 */
const START_SLACK_MS = 1;

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

/**
 * Marks the run's own flows: by the local ports the probe recorded when any of them is in
 * the capture, else by the run's time span (a flow or query that began while the run ran)
 * and its servers (its peers, when it has any). Runs of one check at one location never
 * overlap, so the span tells them apart; other checks' runs at the same moment have other
 * servers.
 */
function markOwnRun(flows: TcpFlowAnalysis[], queries: DnsQueryAnalysis[], scope: RunScope): void {
  const inSpan = (ms: number) =>
    ms >= scope.startedAt - START_SLACK_MS && ms <= scope.finishedAt + SPAN_SLACK_MS;
  const ports = new Set(scope.localPorts);
  const byPort = flows.some((flow) => ports.has(flow.client.port));
  // Another check's flow of the same moment (runs at one location run side by side) is not
  // this run's because it began while this one ran: its server must be one this run tried.
  const servers = scope.servers ?? [];
  const toRunServer = (flow: TcpFlowAnalysis) =>
    servers.length === 0 ||
    servers.some((server) => server.port === flow.server.port && sameAddress(server.ip, flow.server.ip));
  for (const flow of flows)
    flow.ownRun = byPort ? ports.has(flow.client.port) : inSpan(flow.firstMs) && toRunServer(flow);
  for (const query of queries) query.ownRun = inSpan(query.atMs);
}

/** One address however it is written (an IPv4-mapped IPv6 address, brackets). */
function sameAddress(a: string, b: string): boolean {
  const plain = (ip: string) =>
    ip
      .replace(/^\[|\]$/g, '')
      .replace(/^::ffff:/i, '')
      .toLowerCase();
  return plain(a) === plain(b);
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
