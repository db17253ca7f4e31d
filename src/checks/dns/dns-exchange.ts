import { type CodedRunError, errorOf } from '../../results/error-codes.ts';
import { timeoutError } from '../network-error.ts';
import type { PhaseClock } from '../phase-clock.ts';
import type { DnsServerAddress } from './dns-server-address.ts';
import type { AskedQuestion, DnsResponse } from './read-response.ts';

/** Everything one query over one transport needs. */
export interface DnsExchange {
  server: DnsServerAddress;
  /** `127.0.0.1:5353`, as messages show it. */
  target: string;
  asked: AskedQuestion;
  /** The encoded query, without the TCP length prefix. */
  query: Buffer;
  signal: AbortSignal;
  timeoutMs: number;
  clock: PhaseClock;
}

export interface DnsReply {
  response: DnsResponse;
  bytes: number;
}

/** The timeout of the query phase: `DNS server 127.0.0.1:5353 sent no answer to A shop.example within 2000 ms`. */
export function noAnswerError(exchange: DnsExchange, transport: 'udp' | 'tcp'): CodedRunError {
  const { asked, target, timeoutMs } = exchange;
  return timeoutError('query', target, timeoutMs, {
    kind: 'dnsAnswer',
    question: `${asked.type} ${asked.name}`,
    transport,
  });
}

export function protocolError(exchange: DnsExchange, problem: string): CodedRunError {
  return errorOf('PROTOCOL', `DNS server ${exchange.target} ${problem}`, 'query');
}
