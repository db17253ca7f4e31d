import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { z } from 'zod';
import { noAuthBlock } from '../../config/auth-settings.ts';
import { noTlsBlock } from '../../config/tls-settings.ts';
import { errorOf } from '../../results/error-codes.ts';
import type { Peer, ProbeOutcome, RunError } from '../../results/run-result.ts';
import { checkSchemaOf } from '../check-base.ts';
import { classifyNetworkError, timeoutError } from '../network-error.ts';
import { PhaseClock } from '../phase-clock.ts';
import type { Probe, ProbeContext } from '../probe.ts';
import { addPeer, formatTarget, unbracket } from '../remote-endpoint.ts';
import { quoteLine } from '../socket-dialogue.ts';
import { udpSettingsSchema } from './udp-settings.ts';

export const udpCheckSchema = checkSchemaOf('udp', {
  settings: udpSettingsSchema,
  tls: noTlsBlock('udp'),
  auth: noAuthBlock('udp', ' (send credentials in the datagram, with a secret reference)'),
});
export type UdpCheck = z.output<typeof udpCheckSchema>;

/** Resolves `host` to one address of the wanted family (a literal is used as is). */
async function resolve(host: string, family: 'any' | 4 | 6): Promise<{ address: string; family: 4 | 6 }> {
  const bare = unbracket(host);
  const literal = isIP(bare);
  if (literal !== 0) return { address: bare, family: literal as 4 | 6 };
  const found = await lookup(bare, family === 'any' ? {} : { family });
  return { address: found.address, family: found.family as 4 | 6 };
}

/**
 * One datagram out, one reply back, within the check's deadline. The socket is connected
 * to the target, so an ICMP port unreachable comes back as ECONNREFUSED (nothing listens,
 * or a firewall rejects) instead of looking like silence.
 */
async function exchange(
  socket: Socket,
  target: { address: string; port: number },
  payload: Buffer,
  clock: PhaseClock,
  signal: AbortSignal,
): Promise<Buffer> {
  return new Promise<Buffer>((resolveReply, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    const done = () => signal.removeEventListener('abort', onAbort);
    socket.once('error', (error) => {
      done();
      reject(error);
    });
    socket.once('message', (message) => {
      done();
      resolveReply(message);
    });
    socket.connect(target.port, target.address, () => {
      clock.enter('send');
      socket.send(payload, (error) => {
        if (error) {
          done();
          reject(error);
          return;
        }
        clock.enter('reply');
      });
    });
  });
}

/** A send or receive failure, in the words of a datagram (no connection was ever refused). */
function failureOf(
  error: unknown,
  phase: string | undefined,
  target: string,
  timeoutMs: number,
  deadlineHit: boolean,
): RunError {
  if (deadlineHit) return timeoutError(phase, target, timeoutMs, { kind: 'reply', what: 'a reply' });
  if ((error as NodeJS.ErrnoException)?.code === 'ECONNREFUSED')
    return errorOf(
      'CONNECT_REFUSED',
      `${target} refused the datagram (ICMP port unreachable): nothing listens on that port, or a firewall rejects it`,
      phase,
    );
  return classifyNetworkError(error, phase, target);
}

export const udpProbe: Probe<UdpCheck> = {
  async run(check, context: ProbeContext): Promise<ProbeOutcome> {
    const settings = check.udp;
    const clock = new PhaseClock();
    const peers: Peer[] = [];
    let target = formatTarget(unbracket(settings.host), settings.port);
    let socket: Socket | undefined;
    const payload =
      settings.sendHex !== undefined
        ? Buffer.from(settings.sendHex, 'hex')
        : Buffer.from(context.secrets.interpolate(settings.send ?? ''), 'utf8');
    try {
      if (isIP(unbracket(settings.host)) === 0) clock.enter('dns');
      const resolved = await resolve(settings.host, settings.ipVersion);
      target = formatTarget(resolved.address, settings.port);
      socket = createSocket(resolved.family === 6 ? 'udp6' : 'udp4');
      const reply = await exchange(
        socket,
        { address: resolved.address, port: settings.port },
        payload,
        clock,
        context.signal,
      );
      addPeer(peers, resolved.address, settings.port, socket.address().port);
      const text = reply.toString('latin1');
      const details = {
        address: target,
        bytesSent: payload.length,
        bytesReceived: reply.length,
        reply: quoteLine(context.secrets.mask(text)),
      };
      if (settings.expect !== undefined && !new RegExp(settings.expect).test(text)) {
        return {
          status: 'fail',
          phases: clock.finish(),
          peers,
          error: errorOf(
            'ASSERTION',
            `the reply from ${target} does not match /${settings.expect}/: ${details.reply}`,
            'reply',
          ),
          assertions: [
            {
              name: `reply matches /${settings.expect}/`,
              ok: false,
              expected: settings.expect,
              actual: details.reply,
            },
          ],
          details,
        };
      }
      return { status: 'pass', phases: clock.finish(), peers, details };
    } catch (error) {
      const phase = clock.current;
      if (socket) {
        try {
          addPeer(peers, socket.remoteAddress().address, settings.port, socket.address().port);
        } catch {
          // Never connected: no peer to name.
        }
      }
      return {
        status: 'fail',
        phases: clock.finish(),
        peers,
        error: failureOf(error, phase, target, context.timeoutMs, context.signal.aborted),
        details: { address: target, bytesSent: payload.length },
      };
    } finally {
      socket?.close();
    }
  },
};
