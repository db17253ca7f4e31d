import dgram from 'node:dgram';
import { type CodedRunError, errorOf } from '../../results/error-codes.ts';
import { ProbeError } from '../errors/probe-error.ts';
import { classifyNetworkError } from '../network-error.ts';
import { type DnsExchange, type DnsReply, noAnswerError, protocolError } from './dns-exchange.ts';
import { readResponse } from './read-response.ts';

/**
 * Sends the query in one datagram and waits for the matching answer. The socket is
 * connected so that the kernel drops datagrams from other addresses and reports an ICMP
 * port unreachable as ECONNREFUSED, which is how "nothing listens there" shows on UDP (and
 * a firewall's ICMP host prohibited as EHOSTUNREACH; a plain host unreachable is a "soft"
 * error Linux does not report on UDP, so that query simply goes unanswered).
 */
export function exchangeUdp(exchange: DnsExchange): Promise<DnsReply> {
  const { server, target, asked, signal, clock } = exchange;
  clock.enter('query');
  return new Promise<DnsReply>((resolve, reject) => {
    const socket = dgram.createSocket(server.family === 6 ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (error: CodedRunError | undefined, reply?: DnsReply) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      try {
        socket.close();
      } catch {
        // Already closed by an error: nothing left to release.
      }
      if (error) reject(new ProbeError(error));
      else if (reply) resolve(reply);
    };
    const onAbort = () => finish(noAnswerError(exchange, 'udp'));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // UDP has no connect to fail: the kernel reports the ICMP answer to the query itself.
      if (error.code === 'ECONNREFUSED')
        finish(
          errorOf('CONNECT_REFUSED', `DNS server ${target} refused the query (port unreachable)`, 'query'),
        );
      else if (error.code === 'EHOSTUNREACH' || error.code === 'ENETUNREACH') {
        const what = error.code === 'EHOSTUNREACH' ? 'host' : 'network';
        finish(
          errorOf(
            'UNREACHABLE',
            `DNS server ${target} is unreachable: no route to the ${what} (${error.code})`,
            'query',
          ),
        );
      } else finish(classifyNetworkError(error, 'query', target));
    });
    socket.on('message', (message: Buffer) => {
      const verdict = readResponse(message, asked, true);
      if (verdict.kind === 'stray') return;
      if (verdict.kind === 'bad') finish(protocolError(exchange, verdict.problem));
      else finish(undefined, { response: verdict.response, bytes: message.length });
    });
    if (signal.aborted) {
      onAbort();
      return;
    }
    // With a callback, a failed connect is handed to it rather than emitted as 'error'.
    socket.connect(server.port, server.ip, (error?: Error) => {
      if (settled) return;
      if (error) {
        socket.emit('error', error);
        return;
      }
      socket.send(exchange.query, (error) => {
        if (error) socket.emit('error', error);
      });
    });
  });
}
