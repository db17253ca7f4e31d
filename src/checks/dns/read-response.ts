import * as dnsPacket from 'dns-packet';

/** A decoded answer; dns-packet sets `rcode` and `opcode` but its types leave them out. */
export type DnsResponse = dnsPacket.DecodedPacket & { rcode: string; opcode: string };

export type ResponseVerdict =
  | { kind: 'answer'; response: DnsResponse }
  /** Not ours (another id): on UDP anyone can send to our port, so it is skipped, not fatal. */
  | { kind: 'stray' }
  /** Ours but wrong: the phrase completes `DNS server 10.0.0.53:53 …`. */
  | { kind: 'bad'; problem: string };

export interface AskedQuestion {
  id: number;
  type: string;
  name: string;
}

function sameName(a: string, b: string): boolean {
  const bare = (name: string) => name.replace(/\.$/, '').toLowerCase();
  return bare(a) === bare(b);
}

/**
 * Decides whether one message from the server answers our question. `strayAllowed` is true
 * on UDP, where a packet with another id is ignored; on our own TCP stream it is an error.
 */
export function readResponse(message: Buffer, asked: AskedQuestion, strayAllowed: boolean): ResponseVerdict {
  const question = `${asked.type} ${asked.name}`;
  if (message.length >= 2 && message.readUInt16BE(0) !== asked.id) {
    if (strayAllowed) return { kind: 'stray' };
    return {
      kind: 'bad',
      problem: `answered with id ${message.readUInt16BE(0)}, expected ${asked.id} (${question})`,
    };
  }
  let response: DnsResponse;
  try {
    response = dnsPacket.decode(message) as DnsResponse;
  } catch (error) {
    return {
      kind: 'bad',
      problem: `sent a malformed answer of ${message.length} bytes to ${question}: ${(error as Error).message}`,
    };
  }
  if (!response.flag_qr) return { kind: 'bad', problem: `sent a query instead of an answer (${question})` };
  if (response.opcode !== 'QUERY')
    return { kind: 'bad', problem: `answered with opcode ${response.opcode}, expected QUERY (${question})` };
  const questions = response.questions ?? [];
  // A server that rejects a query (FORMERR, NOTIMP, REFUSED) may leave the question out.
  if (questions.length === 0 && response.rcode !== 'NOERROR') return { kind: 'answer', response };
  const echoed = questions[0];
  if (questions.length !== 1 || echoed.type !== asked.type || !sameName(echoed.name, asked.name)) {
    const got = questions.map((q) => `${q.type} ${q.name}`).join(', ') || 'no question';
    return { kind: 'bad', problem: `answered ${got} when asked ${question}` };
  }
  return { kind: 'answer', response };
}
