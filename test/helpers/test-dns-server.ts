import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';

/** A record the server holds, in dns-packet's form: `{ name, type: 'A', data: '10.0.0.1' }`. */
export type ZoneRecord = dnsPacket.Answer;

/**
 * How the server treats every query:
 * - `answer`: answers from the zone (NXDOMAIN for an unknown name, empty for a missing type);
 * - `silent`: reads the query and never answers (TCP: accepts and holds the connection);
 * - `garbage`: answers with the right id followed by bytes that do not decode;
 * - `wrong-question`: a well-formed answer to another name;
 * - `stray-then-answer`: first an answer with another id, then the real one;
 * - `hang-up`: TCP closes the connection on reading the query (UDP stays silent).
 */
export type DnsServerBehaviour =
  | 'answer'
  | 'silent'
  | 'garbage'
  | 'wrong-question'
  | 'stray-then-answer'
  | 'hang-up';

export interface TestDnsServerOptions {
  zone?: ZoneRecord[];
  behaviour?: DnsServerBehaviour;
  /** Answer every query with this rcode (and the zone's records, if any) instead of the zone's own. */
  rcode?: string;
  /** Wait this long before each answer: the slow-server case. */
  delayMs?: number;
  /** Over UDP, answer with the TC flag and no records, as a server does when the answer does not fit. */
  truncateUdp?: boolean;
  /** `127.0.0.1` (default) or `::1`. */
  host?: string;
}

export interface SeenQuery {
  transport: 'udp' | 'tcp';
  id: number;
  name: string;
  type: string;
  recursionDesired: boolean;
}

export interface TestDnsServer {
  host: string;
  /** The same port number for UDP and TCP. */
  port: number;
  /** `127.0.0.1:PORT` or `[::1]:PORT`, as a dns check's `server` takes it. */
  address: string;
  /** Every query received, in order. */
  queries: SeenQuery[];
  close(): Promise<void>;
}

const RCODE_NUMBERS: Record<string, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
};

/** Binding UDP first and TCP on the same number can collide with another listener: retry a few times. */
const BIND_ATTEMPTS = 20;

function sameName(a: string, b: string): boolean {
  return a.replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();
}

/** The zone's answer: direct records, else a CNAME and its target's records, else NODATA or NXDOMAIN. */
function lookUp(zone: ZoneRecord[], question: dnsPacket.Question): { rcode: number; answers: ZoneRecord[] } {
  const atName = zone.filter((record) => sameName(record.name, question.name));
  if (atName.length === 0) return { rcode: RCODE_NUMBERS.NXDOMAIN, answers: [] };
  const direct = atName.filter((record) => record.type === question.type);
  if (direct.length > 0) return { rcode: 0, answers: direct };
  const alias = atName.find((record) => record.type === 'CNAME');
  if (alias && alias.type === 'CNAME') {
    const targets = zone.filter(
      (record) => sameName(record.name, alias.data) && record.type === question.type,
    );
    return { rcode: 0, answers: [alias, ...targets] };
  }
  return { rcode: 0, answers: [] };
}

/**
 * A real DNS server on loopback for tests: dns-packet over node:dgram (UDP) and node:net
 * (TCP, 2-byte length prefix), both on one port, serving `zone` with the chosen behaviour.
 */
export async function startTestDnsServer(options: TestDnsServerOptions = {}): Promise<TestDnsServer> {
  const host = options.host ?? '127.0.0.1';
  const zone = options.zone ?? [];
  const behaviour = options.behaviour ?? 'answer';
  const queries: SeenQuery[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<net.Socket>();

  /** The messages to send back for one query, each without a TCP length prefix. */
  const respond = (query: dnsPacket.DecodedPacket, transport: 'udp' | 'tcp'): Buffer[] => {
    const question = query.questions?.[0];
    if (!question) return [];
    queries.push({
      transport,
      id: query.id ?? 0,
      name: question.name,
      type: question.type,
      recursionDesired: query.flag_rd,
    });
    if (behaviour === 'silent' || behaviour === 'hang-up') return [];
    const id = query.id ?? 0;
    if (behaviour === 'garbage') {
      const bytes = Buffer.from([0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 7, 0x73, 0x68]);
      bytes.writeUInt16BE(id, 0);
      return [bytes];
    }
    const found = lookUp(zone, question);
    const rcode = options.rcode !== undefined ? RCODE_NUMBERS[options.rcode] : found.rcode;
    const truncated = transport === 'udp' && options.truncateUdp === true;
    const flags =
      dnsPacket.AUTHORITATIVE_ANSWER |
      (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) |
      (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) |
      rcode;
    const questions =
      behaviour === 'wrong-question' ? [{ ...question, name: `other.${question.name}` }] : [question];
    const answer = dnsPacket.encode({
      type: 'response',
      id,
      flags,
      questions,
      answers: truncated ? [] : found.answers,
    });
    if (behaviour === 'stray-then-answer') {
      const stray = dnsPacket.encode({
        type: 'response',
        id: (id + 1) % 65_536,
        flags,
        questions,
        answers: [],
      });
      return [stray, answer];
    }
    return [answer];
  };

  const later = (send: () => void) => {
    if (!options.delayMs) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      send();
    }, options.delayMs);
    timers.add(timer);
  };

  const handleTcp = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const length = buffered.readUInt16BE(0);
        const message = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        const replies = respond(dnsPacket.decode(message), 'tcp');
        if (behaviour === 'hang-up') {
          socket.end();
          return;
        }
        later(() => {
          for (const reply of replies) {
            const prefix = Buffer.alloc(2);
            prefix.writeUInt16BE(reply.length);
            if (!socket.destroyed) socket.write(Buffer.concat([prefix, reply]));
          }
        });
      }
    });
  };

  for (let attempt = 1; ; attempt++) {
    const udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    udp.bind(0, host);
    await once(udp, 'listening');
    const { port } = udp.address();
    const tcp = net.createServer(handleTcp);
    try {
      tcp.listen(port, host);
      await once(tcp, 'listening');
    } catch (error) {
      udp.close();
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < BIND_ATTEMPTS) continue;
      throw error;
    }
    udp.on('message', (message, remote) => {
      let query: dnsPacket.DecodedPacket;
      try {
        query = dnsPacket.decode(message);
      } catch {
        return;
      }
      const replies = respond(query, 'udp');
      later(() => {
        for (const reply of replies) udp.send(reply, remote.port, remote.address);
      });
    });
    return {
      host,
      port,
      address: net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`,
      queries,
      close: async () => {
        for (const timer of timers) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        await Promise.all([
          new Promise<void>((resolve) => udp.close(() => resolve())),
          new Promise<void>((resolve) => tcp.close(() => resolve())),
        ]);
      },
    };
  }
}

/** A UDP port on 127.0.0.1 with nothing bound: a datagram sent there draws ICMP port unreachable. */
export async function closedUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
