import net from 'node:net';
import { type CodedRunError, errorOf } from '../../results/error-codes.ts';
import { ProbeError } from '../errors/probe-error.ts';
import { classifyNetworkError, timeoutError } from '../network-error.ts';
import { type DnsExchange, type DnsReply, noAnswerError, protocolError } from './dns-exchange.ts';
import { readResponse } from './read-response.ts';

/**
 * Sends the query over a fresh TCP connection with the 2-byte length prefix (RFC 1035
 * 4.2.2) and reads one length-prefixed answer. Phases: `connect`, then `query`.
 */
export function exchangeTcp(exchange: DnsExchange): Promise<DnsReply> {
  const { server, target, asked, signal, clock, timeoutMs } = exchange;
  clock.enter('connect');
  return new Promise<DnsReply>((resolve, reject) => {
    let settled = false;
    let received = Buffer.alloc(0);
    const socket = net.connect({ host: server.ip, port: server.port, family: server.family });
    const finish = (error: CodedRunError | undefined, reply?: DnsReply) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(new ProbeError(error));
      else if (reply) resolve(reply);
    };
    const onAbort = () =>
      finish(
        clock.current === 'connect'
          ? timeoutError('connect', target, timeoutMs)
          : noAnswerError(exchange, 'tcp'),
      );
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('connect', () => {
      clock.enter('query');
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(exchange.query.length);
      socket.write(Buffer.concat([prefix, exchange.query]));
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length < 2 + length) return;
      const message = received.subarray(2, 2 + length);
      const verdict = readResponse(message, asked, false);
      if (verdict.kind === 'answer') finish(undefined, { response: verdict.response, bytes: message.length });
      else finish(protocolError(exchange, verdict.kind === 'bad' ? verdict.problem : 'sent a stray answer'));
    });
    // A server that hangs up before answering is a far-end failure worth a packet capture,
    // like a reset, rather than a malformed answer.
    socket.on('end', () => {
      const partial = received.length > 0 ? ` (${received.length} bytes of an answer received)` : '';
      finish(
        errorOf(
          'CONNECTION_CLOSED',
          `DNS server ${target} closed the TCP connection without answering ${asked.type} ${asked.name}${partial}`,
          clock.current,
        ),
      );
    });
    socket.on('error', (error) => finish(classifyNetworkError(error, clock.current, target)));
    if (signal.aborted) onAbort();
  });
}
