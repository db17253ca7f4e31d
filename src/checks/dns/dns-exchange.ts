import type { RunError } from '../../results/run-result.ts';
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

/**
 * The timeout of the query phase, written here rather than by timeoutError because only
 * the probe knows what was asked: `DNS server 127.0.0.1:5353 sent no answer to A shop.example within 2000 ms`.
 */
export function noAnswerError(exchange: DnsExchange, transport: 'udp' | 'tcp'): RunError {
  const { asked, target, timeoutMs } = exchange;
  return {
    class: 'timeout',
    phase: 'query',
    message: `DNS server ${target} sent no answer to ${asked.type} ${asked.name} within ${Math.round(timeoutMs)} ms${transport === 'tcp' ? ' over TCP' : ''}`,
  };
}

export function protocolError(exchange: DnsExchange, problem: string): RunError {
  return { class: 'protocol', phase: 'query', message: `DNS server ${exchange.target} ${problem}` };
}
